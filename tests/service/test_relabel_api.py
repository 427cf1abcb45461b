"""話者数の変更: ``POST /api/v1/recordings/{id}/speakers`` queues a relabel job; the worker runs the
diarizer again with the new count and re-assigns the stored transcript's words. Nothing is
recognised again and the usage ledger is untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from service.maintenance import purge_expired_audio
from service.models import AuditEvent, Job, JobStatus, SearchSegment, UsageRecord
from tests.conftest import DIALOGUE, SINGLE
from tests.service.conftest import World, run_queued_job
from tests.web.transcripts import meeting, store_finished
from transcriber.pipeline import SpeakerHints
from transcriber.transcript import Transcript
from worker.runner import RunnerConfig, run_job

pytest.importorskip("pyannote.audio", reason="speaker diarization needs the [diarization] extra")
pytestmark = pytest.mark.slow

R = "/api/v1/recordings"


def _no_transcription(path: Path, progress: Any, terms: Any, hints: SpeakerHints) -> Transcript:
    raise AssertionError("a relabel must not recognise the speech again")


def _run_relabel(world: World, storage: Path, job_id: int) -> JobStatus | None:
    """What a worker does with the relabel job's message, with the worker's own diarizer."""
    from worker.tasks import _diarize

    return run_job(world.engine, job_id, _no_transcription, RunnerConfig(storage=storage), _diarize)


@pytest.fixture
def diarizing(monkeypatch: pytest.MonkeyPatch, service_env: dict[str, str]) -> Path:
    """The worker's settings with the embedded diarizer on; the storage folder."""
    from service.settings import get_settings

    monkeypatch.setenv("KIROKU_DIARIZATION", "embedded")
    get_settings.cache_clear()
    return Path(service_env["KIROKU_STORAGE_DIR"])


def _words(body: dict[str, Any]) -> list[tuple[float, float, str]]:
    return [(w["start"], w["end"], w["text"]) for s in body["segments"] for w in s["words"]]


def _usage(world: World) -> list[tuple[int, float]]:
    with Session(world.engine) as db:
        return [(u.recording_id, u.audio_seconds) for u in db.exec(select(UsageRecord)).all()]


def _indexed_speakers(world: World, recording_id: int) -> set[str]:
    with Session(world.engine) as db:
        rows = db.exec(
            select(SearchSegment.speaker).where(SearchSegment.recording_id == recording_id, SearchSegment.segment >= 0)
        ).all()
        return set(rows)


def test_the_speaker_count_changes_and_nothing_else(world: World, diarizing: Path, transcribe_fn: Any) -> None:
    clerk = world.client("clerk_kita")
    with DIALOGUE.open("rb") as handle:
        created = clerk.post(
            R, files={"file": (DIALOGUE.name, handle, "audio/flac")}, data={"kind": "phone", "speakers": "1"}
        )
    assert created.status_code == 201, created.text
    recording_id = created.json()["id"]
    assert run_queued_job(world.engine, created.json()["job_id"], transcribe_fn, diarizing) == JobStatus.succeeded
    before = clerk.get(f"{R}/{recording_id}/transcript").json()
    assert {s["speaker"] for s in before["segments"]} == {"S1"}
    usage = _usage(world)
    assert [r for r, _ in usage] == [recording_id]

    queued = clerk.post(f"{R}/{recording_id}/speakers", json={"count": 2})
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and queued.json()["job_kind"] == "relabel"
    again = clerk.post(f"{R}/{recording_id}/speakers", json={"count": 3})
    assert again.status_code == 409 and "処理中" in again.json()["detail"]

    assert _run_relabel(world, diarizing, queued.json()["job_id"]) == JobStatus.succeeded
    after = clerk.get(f"{R}/{recording_id}/transcript").json()
    assert {s["speaker"] for s in after["segments"]} == {"S1", "S2"}
    assert [s["id"] for s in after["speakers"]] == ["S1", "S2"]
    # Only the speakers changed: the same text, the same words at the same times.
    assert "".join(s["text"] for s in after["segments"]) == "".join(s["text"] for s in before["segments"])
    assert _words(after) == _words(before)
    assert after["model"] == before["model"]
    assert _usage(world) == usage  # nothing recognised, nothing counted
    assert len(_indexed_speakers(world, recording_id)) == 2  # search shows the new speakers
    shown = clerk.get(f"{R}/{recording_id}").json()
    assert shown["status"] == "succeeded" and shown["expected_speakers"] == 2

    back = clerk.post(f"{R}/{recording_id}/speakers", json={"min": 1, "max": 1})
    assert back.status_code == 202, back.text
    assert _run_relabel(world, diarizing, back.json()["job_id"]) == JobStatus.succeeded
    single = clerk.get(f"{R}/{recording_id}/transcript").json()
    assert {s["speaker"] for s in single["segments"]} == {"S1"}
    assert _words(single) == _words(before)
    assert _usage(world) == usage
    with Session(world.engine) as db:
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.relabel")).all()
        assert [(e.recording_id, e.detail) for e in events] == [
            (recording_id, "count 2"),
            (recording_id, "min 1 max 1"),
        ]


def _job_count(world: World) -> int:
    with Session(world.engine) as db:
        return int(db.exec(select(func.count()).select_from(Job)).one())


def test_refused_while_unfinished_after_saved_minutes_and_after_retention(
    world: World, diarizing: Path, transcribe_fn: Any
) -> None:
    clerk = world.client("clerk_kita")
    with SINGLE.open("rb") as handle:
        waiting = clerk.post(R, files={"file": (SINGLE.name, handle, "audio/flac")}, data={"kind": "meeting"}).json()
    refused = clerk.post(f"{R}/{waiting['id']}/speakers", json={"count": 2})
    assert refused.status_code == 409 and "処理中" in refused.json()["detail"]
    clerk.post(f"{R}/{waiting['id']}/cancel")
    refused = clerk.post(f"{R}/{waiting['id']}/speakers", json={"count": 2})
    assert refused.status_code == 409 and "完了していません" in refused.json()["detail"]

    edited = store_finished(world.engine, diarizing, "clerk_kita", "定例会議", meeting(6), audio=SINGLE)
    minutes = clerk.get(f"{R}/{edited}/minutes")
    saved = clerk.put(f"{R}/{edited}/minutes", json=minutes.json(), headers={"If-Match": minutes.headers["ETag"]})
    assert saved.status_code == 200, saved.text
    refused = clerk.post(f"{R}/{edited}/speakers", json={"count": 2})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "議事録を保存した後は話者数を変更できません。"

    fresh = store_finished(world.engine, diarizing, "clerk_kita", "面談記録", meeting(4), audio=SINGLE)
    for bad in ({"count": 0}, {"count": 21}, {"min": 3, "max": 2}, {"count": 2, "max": 3}, {}, {"speakers": 2}):
        assert clerk.post(f"{R}/{fresh}/speakers", json=bad).status_code == 422, bad
    assert world.client("clerk_zaisei").post(f"{R}/{fresh}/speakers", json={"count": 2}).status_code == 404
    jobs = _job_count(world)

    assert purge_expired_audio(world.engine, diarizing, retention_days=0) >= 1
    gone = clerk.post(f"{R}/{fresh}/speakers", json={"count": 2})
    assert gone.status_code == 410 and "削除" in gone.json()["detail"]
    assert _job_count(world) == jobs  # no refusal queued anything
    with Session(world.engine) as db:
        assert db.exec(select(AuditEvent).where(col(AuditEvent.action) == "recording.relabel")).all() == []


def test_minutes_saved_while_the_relabel_waits_are_kept(world: World, diarizing: Path) -> None:
    clerk = world.client("clerk_kita")
    recording_id = store_finished(world.engine, diarizing, "clerk_kita", "定例会議", meeting(6), audio=SINGLE)
    machine = clerk.get(f"{R}/{recording_id}/transcript").json()
    queued = clerk.post(f"{R}/{recording_id}/speakers", json={"count": 2})
    assert queued.status_code == 202, queued.text
    minutes = clerk.get(f"{R}/{recording_id}/minutes")  # a clerk saves before the worker gets to it
    saved = clerk.put(f"{R}/{recording_id}/minutes", json=minutes.json(), headers={"If-Match": minutes.headers["ETag"]})
    assert saved.status_code == 200, saved.text

    assert _run_relabel(world, diarizing, queued.json()["job_id"]) == JobStatus.failed
    shown = clerk.get(f"{R}/{recording_id}").json()
    # The transcript is as it was: listed as transcribed, with a note; the job's own error says why.
    assert shown["status"] == "succeeded" and shown["notice"].startswith("話者の再判定に失敗しました。")
    assert shown["job_kind"] == "relabel" and "議事録が保存された" in shown["error"]
    assert clerk.get(f"{R}/{recording_id}/transcript").json() == machine


def test_a_worker_without_diarization_leaves_the_job_for_another(world: World, service_env: dict[str, str]) -> None:
    """KIROKU_DIARIZATION=off (the service tests' default): the job goes back to the queue, with why."""
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    clerk = world.client("clerk_kita")
    recording_id = store_finished(world.engine, storage, "clerk_kita", "定例会議", meeting(6), audio=SINGLE)
    machine = clerk.get(f"{R}/{recording_id}/transcript").json()
    queued = clerk.post(f"{R}/{recording_id}/speakers", json={"count": 2})
    assert queued.status_code == 202, queued.text

    assert _run_relabel(world, storage, queued.json()["job_id"]) == JobStatus.queued
    shown = clerk.get(f"{R}/{recording_id}").json()
    assert shown["status"] == "queued" and "話者分離が使えません" in shown["error"]
    assert clerk.get(f"{R}/{recording_id}/transcript").json() == machine

"""Through the worker: a diarizer that fails costs the speakers only. The job succeeds with the
transcript on one speaker and the reason, the usage is counted once, and the clerk re-runs the
speakers later; a relabel that fails leaves the recording listed as transcribed, with a note (issue 23)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from service.models import Job, JobStatus, UsageRecord
from tests.conftest import SINGLE
from tests.service.conftest import World
from tests.test_stage_failures import BrokenDiarizer
from transcriber.pipeline import Pipeline, PipelineOptions, SpeakerHints
from transcriber.transcript import SpeakerTurn, Transcript
from worker.runner import RunnerConfig, run_job

pytestmark = pytest.mark.slow

R = "/api/v1/recordings"


@pytest.fixture(scope="module")
def broken_pipeline() -> Iterator[Pipeline]:
    pipeline = Pipeline(PipelineOptions(diarization="off"))
    pipeline.diarizer = BrokenDiarizer()
    yield pipeline


def _usage_rows(world: World) -> int:
    with Session(world.engine) as db:
        return len(db.exec(select(UsageRecord)).all())


def _run(world: World, storage: Path, job_id: int, transcribe: Any, diarize: Any) -> JobStatus | None:
    return run_job(world.engine, job_id, transcribe, RunnerConfig(storage=storage, heartbeat_seconds=0.5), diarize)


def _two_speakers(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
    return [SpeakerTurn(start=0.0, end=3.0, speaker="S1"), SpeakerTurn(start=3.0, end=60.0, speaker="S2")]


def _failing(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
    raise RuntimeError("the diarization model file is corrupt")


def _no_transcription(path: Path, progress: Any, terms: Any, hints: SpeakerHints) -> Transcript:
    raise AssertionError("a relabel must not recognise the speech again")


def test_a_failing_diarizer_still_gives_the_clerk_a_transcript(
    world: World, service_env: dict[str, str], broken_pipeline: Pipeline
) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    clerk = world.client("clerk_kita")
    with SINGLE.open("rb") as handle:
        created = clerk.post(R, files={"file": handle}, data={"kind": "meeting", "speakers": "2"}).json()

    def transcribe(path: Path, progress: Any, terms: Any, hints: SpeakerHints) -> Transcript:
        return broken_pipeline.run(path, progress=progress, terms=terms, speakers=hints)

    assert _run(world, storage, created["job_id"], transcribe, _failing) == JobStatus.succeeded
    shown = clerk.get(f"{R}/{created['id']}").json()
    assert shown["status"] == "succeeded" and shown["attempts"] == 1  # not retried
    assert _usage_rows(world) == 1
    machine = clerk.get(f"{R}/{created['id']}/transcript").json()
    assert "開会" in "".join(s["text"] for s in machine["segments"])
    assert {s["speaker"] for s in machine["segments"]} == {"S1"}
    assert [f["stage"] for f in machine["failed_stages"]] == ["diarization"]
    assert "再判定" in machine["failed_stages"][0]["reason"]
    minutes = clerk.get(f"{R}/{created['id']}/minutes").json()  # what the editor shows the notice from
    assert minutes["transcript"]["failed_stages"] == machine["failed_stages"]

    # A relabel that fails (every attempt): the transcript is untouched, the list shows it as ready.
    queued = clerk.post(f"{R}/{created['id']}/speakers", json={"count": 2})
    assert queued.status_code == 202, queued.text
    for _attempt in range(3):
        _run(world, storage, queued.json()["job_id"], _no_transcription, _failing)
    with Session(world.engine) as db:
        job = db.get(Job, queued.json()["job_id"])
        assert job is not None and job.status == JobStatus.failed and job.attempts == 3
    listed = clerk.get(R).json()["items"]
    [item] = [i for i in listed if i["id"] == created["id"]]
    assert item["status"] == "succeeded" and item["job_kind"] == "relabel"
    assert item["notice"] == "話者の再判定に失敗しました。文字起こしはそのまま使えます。"
    assert "RuntimeError" in item["error"]
    assert [i["id"] for i in clerk.get(R, params={"status": "succeeded"}).json()["items"]] == [created["id"]]
    assert clerk.get(R, params={"status": "failed"}).json()["total"] == 0
    assert clerk.get(f"{R}/{created['id']}/transcript").json() == machine

    # The clerk re-runs the speakers: two now, the failure note gone, the usage still counted once.
    again = clerk.post(f"{R}/{created['id']}/speakers", json={"count": 2})
    assert again.status_code == 202, again.text
    assert _run(world, storage, again.json()["job_id"], _no_transcription, _two_speakers) == JobStatus.succeeded
    relabeled = clerk.get(f"{R}/{created['id']}/transcript").json()
    assert {s["speaker"] for s in relabeled["segments"]} == {"S1", "S2"}
    assert "failed_stages" not in relabeled
    assert _usage_rows(world) == 1
    assert clerk.get(f"{R}/{created['id']}").json().get("notice", "") == ""

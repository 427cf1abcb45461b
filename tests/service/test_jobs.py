"""Job life cycle in the worker runner and the upkeep loop: failures, retries, cancel, stale workers,
retention."""

from __future__ import annotations

import threading
import wave
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.maintenance import purge_expired_audio, requeue_stale, resend_queued
from service.models import Job, Recording, TranscriptRecord, UsageRecord, utcnow
from tests.conftest import DIALOGUE, SINGLE, load_pcm
from tests.service.conftest import World, run_queued_job


def _upload(world: World, path: Path = SINGLE) -> dict[str, Any]:
    clerk = world.client("clerk_kita")
    with path.open("rb") as handle:
        response = clerk.post("/api/v1/recordings", files={"file": handle}, data={"kind": "interview"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _job(engine: Engine, job_id: object) -> Job:
    with Session(engine) as db:
        job = db.get(Job, job_id)
        assert job is not None
        return job


def test_a_crashing_job_is_retried_then_fails_with_the_reason(world: World, service_env: dict[str, str]) -> None:
    created = _upload(world)
    storage = Path(service_env["KIROKU_STORAGE_DIR"])

    def crash(path, progress, terms, hints):
        raise RuntimeError("GPU fell off the bus")

    for attempt in (1, 2):
        assert run_queued_job(world.engine, created["job_id"], crash, storage) == "queued"
        job = _job(world.engine, created["job_id"])
        assert job.status == "queued" and job.attempts == attempt and "RuntimeError" in job.error
    assert run_queued_job(world.engine, created["job_id"], crash, storage) == "queued"  # reports the attempt
    job = _job(world.engine, created["job_id"])
    assert job.status == "failed" and job.attempts == 3
    shown = world.client("clerk_kita").get(f"/api/v1/recordings/{created['id']}").json()
    assert shown["status"] == "failed" and "3回失敗" in shown["error"]


@pytest.mark.slow
def test_a_broken_recording_fails_at_once(world: World, service_env: dict[str, str], transcribe_fn: object) -> None:
    created = _upload(world)
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    with Session(world.engine) as db:
        recording = db.get(Recording, created["id"])
        assert recording is not None and recording.audio_path
        audio = storage / recording.audio_path
    data = audio.read_bytes()
    audio.write_bytes(data[: len(data) // 2])  # the disk lost the rest of the file
    assert run_queued_job(world.engine, created["job_id"], transcribe_fn, storage) == "failed"
    job = _job(world.engine, created["job_id"])
    assert job.attempts == 1 and job.error == "音声ファイルが壊れているか途中で切れています。"


def _long_meeting(folder: Path, repeats: int = 4) -> Path:
    """The two-voice call said ``repeats`` times with pauses: a recording whose recognition reports
    progress many times."""
    pcm = load_pcm(DIALOGUE)
    pause = np.zeros(16000 * 3, dtype=np.float32)
    audio = np.concatenate([part for _ in range(repeats) for part in (pcm, pause)])
    target = folder / "長い会議.wav"
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes())
    return target


@pytest.mark.slow
def test_cancel_during_recognition_stops_the_job(
    world: World, service_env: dict[str, str], transcribe_fn: object, tmp_path: Path
) -> None:
    created = _upload(world, _long_meeting(tmp_path))
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    clerk = world.client("clerk_kita")
    recognising = threading.Event()
    reported: list[tuple[str, float]] = []

    def watched(path, progress, terms, hints):
        # The real pipeline; the cancel is sent once recognition has started and is under way.
        def report(stage: str, fraction: float) -> None:
            reported.append((stage, fraction))
            if stage == "asr" and 0.0 < fraction < 1.0:
                recognising.set()
            progress(stage, fraction)

        return transcribe_fn(path, report, terms, hints)  # type: ignore[operator]

    outcome: list[object] = []
    runner = threading.Thread(
        target=lambda: outcome.append(run_queued_job(world.engine, created["job_id"], watched, storage))
    )
    runner.start()
    assert recognising.wait(300), reported
    response = clerk.post(f"/api/v1/recordings/{created['id']}/cancel")
    assert response.status_code == 200 and response.json()["cancel_requested"] is True
    runner.join(600)
    assert outcome == ["canceled"], reported
    # Stopped inside recognition: it never finished, and nothing after it ran.
    assert reported[-1][0] == "asr" and max(f for stage, f in reported if stage == "asr") < 1.0, reported
    assert clerk.get(f"/api/v1/recordings/{created['id']}").json()["status"] == "canceled"
    with Session(world.engine) as db:
        assert db.exec(select(TranscriptRecord)).all() == []
        assert db.exec(select(UsageRecord)).all() == []


def test_stale_running_job_is_requeued_and_gives_up_after_max_attempts(world: World) -> None:
    created = _upload(world)
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None
        job.status, job.worker, job.attempts = "running", "dead-host:1:abc", 1
        job.heartbeat_at = utcnow() - timedelta(seconds=60)
        db.add(job)
        db.commit()
    assert requeue_stale(world.engine, stale_after=30) == [created["job_id"]]
    job = _job(world.engine, created["job_id"])
    assert job.status == "queued" and job.worker == ""
    # A live worker's job (fresh heartbeat) is left alone.
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None
        job.status, job.worker, job.heartbeat_at, job.attempts = "running", "live:2:def", utcnow(), 3
        db.add(job)
        db.commit()
    assert requeue_stale(world.engine, stale_after=30) == []
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None
        job.heartbeat_at = utcnow() - timedelta(seconds=60)
        db.add(job)
        db.commit()
    assert requeue_stale(world.engine, stale_after=30) == []
    job = _job(world.engine, created["job_id"])
    assert job.status == "failed" and "繰り返し停止" in job.error


def test_queued_job_no_worker_took_is_sent_again(world: World) -> None:
    created = _upload(world)
    assert resend_queued(world.engine, older_than=60) == []
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None
        job.queued_at = utcnow() - timedelta(minutes=10)
        db.add(job)
        db.commit()
    assert resend_queued(world.engine, older_than=60) == [created["job_id"]]


def test_retention_deletes_old_audio_but_keeps_the_record(world: World, service_env: dict[str, str]) -> None:
    old, new = _upload(world), _upload(world)
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    with Session(world.engine) as db:
        recording = db.get(Recording, old["id"])
        assert recording is not None
        recording.created_at = utcnow() - timedelta(days=91)
        db.add(recording)
        db.commit()
    assert purge_expired_audio(world.engine, storage, retention_days=90) == 1
    clerk = world.client("clerk_kita")
    gone = clerk.get(f"/api/v1/recordings/{old['id']}/audio")
    assert gone.status_code == 410 and "保存期間" in gone.json()["detail"]
    assert clerk.get(f"/api/v1/recordings/{old['id']}").json()["audio_available"] is False
    assert clerk.get(f"/api/v1/recordings/{new['id']}/audio").status_code == 200
    assert len(list((storage / "audio").iterdir())) == 1

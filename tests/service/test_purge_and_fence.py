"""Deleting a recording leaves nothing of it behind, and a worker that finishes while the recording is
deleted or its job canceled stores nothing (issue 23).

The purge is checked the way a reviewer would: every text column of every table, and every file name
and file under the storage directory, searched for the recording's title, file name and words.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel import select as sql_select

from service.models import Job, MinutesRevision, SearchDocument, TranscriptRecord, UploadSession, UsageRecord
from tests.conftest import SINGLE
from tests.service.conftest import World, run_queued_job
from transcriber.transcript import Segment, Speaker, Transcript

R = "/api/v1/recordings"
TITLE = "極秘案件ホタルイカ会議"
FILENAME = "ホタルイカ秘密録音.flac"
WORDS = "ホタルイカの予算は三億円です。"
MARKS = ("ホタルイカ", "hotaruika")


def _transcript() -> Transcript:
    return Transcript(
        duration=10.0,
        speakers=[Speaker(id="S1")],
        segments=[Segment(start=0.0, end=8.0, speaker="S1", text=WORDS)],
        model="fake",
    )


def _fake(before_store: Callable[[], None] = lambda: None) -> Callable[..., Transcript]:
    """The pipeline as the worker calls it; ``before_store`` runs after recognition, before the store."""

    def transcribe(path: Path, progress: Callable[[str, float], None], terms: Any, hints: Any) -> Transcript:
        progress("asr", 1.0)
        before_store()
        return _transcript()

    return transcribe


def _upload(world: World) -> dict[str, Any]:
    clerk = world.client("clerk_kita")
    with SINGLE.open("rb") as handle:
        created = clerk.post(
            R, files={"file": (FILENAME, handle, "audio/flac")}, data={"kind": "meeting", "title": TITLE}
        )
    assert created.status_code == 201, created.text
    recording: dict[str, Any] = created.json()
    return recording


def _traces(engine: Engine, storage: Path) -> list[str]:
    """Where the marks are still found: ``table.column`` and file paths."""
    found: list[str] = []
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    shown = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                    if any(mark in shown for mark in MARKS):
                        found.append(f"{table.name}.{column.name}")
    for path in storage.rglob("*"):
        if any(mark in path.name for mark in MARKS) or (
            path.is_file() and any(mark.encode() in path.read_bytes() for mark in MARKS)
        ):
            found.append(str(path))
    return found


def test_deleting_a_recording_leaves_no_trace_of_it(world: World, service_env: dict[str, str]) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    recording = _upload(world)
    recording_id = recording["id"]
    assert run_queued_job(world.engine, recording["job_id"], _fake(), storage) == "succeeded"
    clerk = world.client("clerk_kita")
    # Everything a clerk's work leaves: saved minutes, a publication copy, a term proposal, the index.
    minutes = clerk.get(f"{R}/{recording_id}/minutes")
    body = minutes.json()
    body["transcript"]["segments"][0]["text"] = WORDS + "ホタルイカ漁の件。"
    saved = clerk.put(f"{R}/{recording_id}/minutes", json=body, headers={"If-Match": minutes.headers["ETag"]})
    assert saved.status_code == 200, saved.text
    assert clerk.post(f"{R}/{recording_id}/publication").status_code == 201
    proposed = clerk.post(f"{R}/{recording_id}/term-proposals", json={"before": "ホタルイカ", "after": "蛍烏賊"})
    assert proposed.status_code == 201, proposed.text
    with Session(world.engine) as db:
        # What a device's upload keeps of the recording it became (``service.uploads``).
        db.add(
            UploadSession(
                id="f" * 32,
                department_id=recording["department_id"],
                length=1,
                offset=1,
                meta={"filename": FILENAME, "title": TITLE},
                recording_id=recording_id,
            )
        )
        db.commit()
        assert db.get(SearchDocument, recording_id) is not None
    assert _traces(world.engine, storage)  # the scan finds them while the recording is there

    assert clerk.delete(f"{R}/{recording_id}").status_code == 204

    assert _traces(world.engine, storage) == []
    assert list((storage / "audio").iterdir()) == []
    with Session(world.engine) as db:
        assert len(db.exec(sql_select(UsageRecord)).all()) == 1  # the ledger keeps its row (no text)
        upload = db.get(UploadSession, "f" * 32)
        assert upload is not None and upload.recording_id == recording_id  # a repeated upload still finds it
    assert clerk.get(f"{R}/{recording_id}").status_code == 404


def _stored(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        return (
            len(db.exec(sql_select(TranscriptRecord)).all()),
            len(db.exec(sql_select(UsageRecord)).all()),
            len(db.exec(sql_select(MinutesRevision)).all()),
        )


def test_a_worker_finishing_after_the_deletion_stores_nothing(world: World, service_env: dict[str, str]) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    recording = _upload(world)
    clerk = world.client("clerk_kita")

    def delete() -> None:  # the clerk deletes while the recogniser is finishing
        assert clerk.delete(f"{R}/{recording['id']}").status_code == 204

    assert run_queued_job(world.engine, recording["job_id"], _fake(delete), storage) == "canceled"
    assert _stored(world.engine) == (0, 0, 0)
    with Session(world.engine) as db:
        job = db.get(Job, recording["job_id"])
        assert job is not None and job.status == "canceled"
        assert db.get(SearchDocument, recording["id"]) is None
    assert _traces(world.engine, storage) == []


def test_a_worker_finishing_after_a_cancel_stores_nothing(world: World, service_env: dict[str, str]) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    recording = _upload(world)
    clerk = world.client("clerk_kita")

    def cancel() -> None:
        response = clerk.post(f"{R}/{recording['id']}/cancel")
        assert response.status_code == 200 and response.json()["cancel_requested"] is True

    assert run_queued_job(world.engine, recording["job_id"], _fake(cancel), storage) == "canceled"
    assert _stored(world.engine) == (0, 0, 0)
    shown = clerk.get(f"{R}/{recording['id']}").json()
    assert shown["status"] == "canceled"
    # Queued again by hand later, it runs and is counted once.
    with Session(world.engine) as db:
        job = db.get(Job, recording["job_id"])
        assert job is not None
        job.status, job.cancel_requested = "queued", False
        db.add(job)
        db.commit()
    assert run_queued_job(world.engine, recording["job_id"], _fake(), storage) == "succeeded"
    assert _stored(world.engine) == (1, 1, 0)

"""Creating recordings and their jobs, and what a job looks like to users."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from service.models import Job, JobKind, JobStatus, Recording, utcnow
from service.queue import enqueue
from service.storage import audio_dir, new_audio_name
from transcriber.audio import AudioInfo

log = logging.getLogger(__name__)

ACTIVE_STATUSES = (JobStatus.queued, JobStatus.running)


def store_recording(
    db: Session,
    *,
    storage: Path,
    uploaded: Path,
    info: AudioInfo,
    original_filename: str,
    department_id: int,
    source: str,
    kind: str,
    title: str,
    max_attempts: int,
    held_at: datetime | None = None,
    place: str = "",
    attendees: str = "",
    expected_speakers: int | None = None,
    dictionary_ids: list[int] | None = None,
    uploaded_by_id: int | None = None,
    device_id: int | None = None,
    device_recording_id: str | None = None,
    fields: dict[str, str] | None = None,
) -> tuple[Recording, Job]:
    """Move a probed upload into the audio store and queue its first job (committed, then sent)."""
    name = new_audio_name(original_filename)
    target = audio_dir(storage) / name
    uploaded.replace(target)
    recording = Recording(
        department_id=department_id,
        source=source,
        kind=kind,
        title=title or Path(original_filename).stem,
        held_at=held_at,
        place=place,
        attendees=attendees,
        fields=fields or {},
        expected_speakers=expected_speakers,
        dictionary_ids=dictionary_ids or [],
        original_filename=Path(original_filename).name[:300],
        audio_path=f"audio/{name}",
        audio_bytes=target.stat().st_size,
        duration_seconds=info.duration,
        uploaded_by_id=uploaded_by_id,
        device_id=device_id,
        device_recording_id=device_recording_id,
    )
    db.add(recording)
    db.flush()
    assert recording.id is not None
    job = _send(db, Job(recording_id=recording.id, max_attempts=max_attempts))
    db.refresh(recording)
    return recording, job


def queue_relabel(
    db: Session, recording_id: int, min_speakers: int | None, max_speakers: int | None, max_attempts: int
) -> Job:
    """Queue speakers to be assigned again on the stored transcript (committed, then sent)."""
    # The same task as a transcription: the worker looks at the job's kind.
    return _send(
        db,
        Job(
            recording_id=recording_id,
            kind=JobKind.relabel,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            max_attempts=max_attempts,
        ),
    )


def _send(db: Session, job: Job) -> Job:
    """Commit a new job, then put it on the queue (never queued before it is stored)."""
    db.add(job)
    db.commit()
    db.refresh(job)
    assert job.id is not None
    enqueue(job.id)
    return job


def latest_job(db: Session, recording_id: int) -> Job | None:
    return db.exec(select(Job).where(Job.recording_id == recording_id).order_by(col(Job.id).desc())).first()


def cancel(db: Session, job: Job) -> Job:
    """Queued: canceled at once. Running: flagged; the worker stops at its next progress report, and
    a worker that finishes meanwhile does not store its result (``worker.runner`` re-checks the flag)."""
    mark_canceled(job)
    db.add(job)
    db.commit()
    db.refresh(job)
    return job


def mark_canceled(job: Job) -> None:
    """``cancel`` without the commit, for a caller that changes more in the same transaction."""
    if job.status == JobStatus.queued:
        job.status = JobStatus.canceled
        job.finished_at = utcnow()
    elif job.status == JobStatus.running:
        job.cancel_requested = True


def lock_active_jobs(db: Session, recording_id: int) -> list[Job]:
    """The recording's queued or running jobs, their rows locked until the commit (PostgreSQL; SQLite
    serialises writers anyway). Taken before the recording's row, in the order the worker takes them."""
    query = select(Job).where(Job.recording_id == recording_id, col(Job.status).in_(ACTIVE_STATUSES))
    return list(db.exec(query.order_by(col(Job.id)).with_for_update()).all())


def job_view(job: Job | None) -> dict[str, Any]:
    if job is None:
        return {"status": None, "stage": "", "progress": 0.0, "error": "", "attempts": 0}
    return {
        "job_id": job.id,
        "job_kind": job.kind,
        "status": job.status,
        "stage": job.stage,
        "progress": 1.0 if job.status == JobStatus.succeeded else round(job.progress, 4),
        "error": job.error,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def job_counts(db: Session) -> dict[str, int]:
    """Jobs by status, every status named (0 where there is none): the metrics' gauge."""
    found = dict(db.exec(select(Job.status, func.count()).group_by(col(Job.status))).all())
    return {status.value: found.get(status, 0) for status in JobStatus}

"""Periodic upkeep, safe to run in several processes at once (every change is a conditional UPDATE):

- re-queue running jobs whose worker stopped beating (killed, powered off);
- re-send queued jobs the broker may have lost (a message sent while the broker was down);
- delete audio past the retention period (transcripts and minutes stay).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.models import Job, JobStatus, Recording, utcnow
from api.queue import enqueue
from api.storage import remove_audio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upkeep:
    stale_after_seconds: float
    retention_days: int
    storage: Path
    resend_after_seconds: float = 300.0


def requeue_stale(engine: Engine, stale_after: float) -> list[int]:
    cutoff = utcnow() - timedelta(seconds=stale_after)
    with Session(engine) as db:
        stale = db.exec(select(Job).where(col(Job.status) == JobStatus.running, col(Job.heartbeat_at) < cutoff)).all()
    requeued: list[int] = []
    for job in stale:
        assert job.id is not None
        gave_up = job.attempts >= job.max_attempts
        values = (
            {"status": JobStatus.failed, "error": "処理中のワーカーが繰り返し停止しました。", "finished_at": utcnow()}
            if gave_up
            else {"status": JobStatus.queued, "worker": "", "queued_at": utcnow()}
        )
        with engine.begin() as conn:
            changed = conn.execute(
                update(Job)
                .where(col(Job.id) == job.id, col(Job.worker) == job.worker, col(Job.status) == JobStatus.running)
                .values(**values)
            ).rowcount
        if changed and not gave_up:
            log.warning("job %s: worker %s stopped beating; re-queued", job.id, job.worker)
            enqueue(job.id)
            requeued.append(job.id)
        elif changed:
            log.error("job %s failed: its worker died %s times", job.id, job.attempts)
    return requeued


def resend_queued(engine: Engine, older_than: float) -> list[int]:
    """Queued for long with no worker: send again (a doubled message is harmless)."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    with Session(engine) as db:
        ids = db.exec(select(Job.id).where(col(Job.status) == JobStatus.queued, col(Job.queued_at) < cutoff)).all()
    resent = []
    for job_id in ids:
        assert job_id is not None
        with engine.begin() as conn:
            conn.execute(update(Job).where(col(Job.id) == job_id).values(queued_at=utcnow()))
        if enqueue(job_id):
            resent.append(job_id)
    return resent


def purge_expired_audio(engine: Engine, storage: Path, retention_days: int) -> int:
    cutoff = utcnow() - timedelta(days=retention_days)
    purged = 0
    with Session(engine) as db:
        old = db.exec(
            select(Recording).where(
                col(Recording.created_at) < cutoff,
                col(Recording.audio_deleted_at).is_(None),
                col(Recording.audio_path).is_not(None),
            )
        ).all()
        for recording in old:
            remove_audio(storage, recording.audio_path)
            recording.audio_path, recording.audio_deleted_at = None, utcnow()
            db.add(recording)
            purged += 1
        db.commit()
    if purged:
        log.info("retention: deleted the audio of %d recordings older than %d days", purged, retention_days)
    return purged


def run_once(engine: Engine, upkeep: Upkeep) -> None:
    requeue_stale(engine, upkeep.stale_after_seconds)
    resend_queued(engine, upkeep.resend_after_seconds)
    purge_expired_audio(engine, upkeep.storage, upkeep.retention_days)


def start_loop(engine: Engine, upkeep: Upkeep, every: float) -> threading.Event:
    """Run upkeep every ``every`` seconds in a daemon thread; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                run_once(engine, upkeep)
            except Exception:
                log.exception("upkeep failed; trying again in %.0f s", every)

    threading.Thread(target=loop, name="kiroku-upkeep", daemon=True).start()
    return stop

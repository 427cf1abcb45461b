"""Periodic upkeep, safe to run in several processes at once (every change is a conditional UPDATE):

- re-queue running jobs whose worker stopped beating (killed, powered off);
- re-send queued jobs the broker may have lost (a message sent while the broker was down);
- delete audio past the retention period (transcripts and minutes stay);
- delete login failures past their window and expired sessions;
- delete resumable uploads abandoned half-way (no byte received for days), with their partial files;
- alert admins about meeting-room devices whose agent fell silent (``service.device_health``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db import engine_for
from service.device_health import alert_silent_devices
from service.logins import purge_login_records
from service.models import Job, JobStatus, Recording, UploadSession, utcnow
from service.queue import enqueue
from service.settings import ServiceSettings, get_settings
from service.storage import remove_audio, uploads_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upkeep:
    stale_after_seconds: float
    retention_days: int
    storage: Path
    resend_after_seconds: float = 300.0
    # The entry points give it (from_settings); left out, the process's settings' (as tests do).
    abandoned_upload_days: float = field(default_factory=lambda: get_settings().abandoned_upload_days)
    login_window_minutes: float = field(default_factory=lambda: get_settings().login_window_minutes)
    # For the silent-device alert: its threshold and the SMTP server.
    settings: ServiceSettings = field(default_factory=get_settings)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Upkeep:
        return cls(
            stale_after_seconds=settings.stale_after_seconds,
            retention_days=settings.retention_days,
            storage=settings.resolved_storage(),
            abandoned_upload_days=settings.abandoned_upload_days,
            login_window_minutes=settings.login_window_minutes,
            settings=settings,
        )


def upkeep_interval(settings: ServiceSettings) -> float:
    """Seconds between upkeep rounds: often enough to notice a stale job soon after it goes stale."""
    return max(1.0, settings.stale_after_seconds / 3)


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


@contextlib.contextmanager
def _upload_turn(lock_path: Path) -> Iterator[bool]:
    """The upload's own lock (``api.routes.uploads``), without waiting: False while a PATCH writes."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _last_touched(session: UploadSession, part: Path) -> float:
    """When the upload last received bytes: its partial file's mtime (the file, not the row, is the
    truth of what arrived), or its creation when nothing did."""
    try:
        return part.stat().st_mtime
    except FileNotFoundError:
        return session.created_at.timestamp()


def purge_abandoned_uploads(engine: Engine, storage: Path, days: float) -> int:
    """Delete unfinished uploads that have received nothing for ``days``: the row, the partial file and
    its lock file. A device coming back later starts again (its POST creates a new upload). Finished
    uploads stay: they answer a device's retry with the recording it already made."""
    cutoff = utcnow() - timedelta(days=days)
    with Session(engine) as db:
        # Created before the cutoff: a younger upload cannot have been untouched for so long.
        query = select(UploadSession).where(
            col(UploadSession.completed_at).is_(None), col(UploadSession.created_at) < cutoff
        )
        unfinished = db.exec(query).all()
    folder = uploads_dir(storage)
    purged, freed = 0, 0
    for session in unfinished:
        part, lock = folder / f"{session.id}.part", folder / f"{session.id}.lock"
        if _last_touched(session, part) >= cutoff.timestamp():
            continue
        with _upload_turn(lock) as free:
            # Looked at again with the lock held: a PATCH may have written, or finished, meanwhile.
            if not free or _last_touched(session, part) >= cutoff.timestamp():
                continue
            with engine.begin() as conn:
                removed = conn.execute(
                    delete(UploadSession).where(
                        col(UploadSession.id) == session.id, col(UploadSession.completed_at).is_(None)
                    )
                ).rowcount
            if not removed:  # finished, or removed by another process's upkeep
                continue
            with contextlib.suppress(FileNotFoundError):
                freed += part.stat().st_size
            part.unlink(missing_ok=True)
            lock.unlink(missing_ok=True)  # still held: a PATCH waiting for it sees it gone (``_Lock``)
            purged += 1
    if purged:
        # Counts only: an upload's metadata holds titles and file names.
        log.info("uploads: deleted %d abandoned for %g days (%d bytes)", purged, days, freed)
    return purged


def run_once(engine: Engine, upkeep: Upkeep) -> None:
    requeue_stale(engine, upkeep.stale_after_seconds)
    resend_queued(engine, upkeep.resend_after_seconds)
    purge_expired_audio(engine, upkeep.storage, upkeep.retention_days)
    purge_abandoned_uploads(engine, upkeep.storage, upkeep.abandoned_upload_days)
    purge_login_records(engine, upkeep.login_window_minutes)
    alert_silent_devices(engine, upkeep.settings)


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


def start_upkeep(settings: ServiceSettings) -> threading.Event:
    """The upkeep loop of a service process (the API's or a worker's) on its settings' database."""
    engine = engine_for(settings.resolved_database_url())
    return start_loop(engine, Upkeep.from_settings(settings), every=upkeep_interval(settings))

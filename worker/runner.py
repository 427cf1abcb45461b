"""Running one job: claim its row, run the pipeline with heartbeats, store the result and the usage.

A relabel job (``JobKind.relabel``) runs only the diarizer, with the clerk's new speaker count, and
re-assigns the stored transcript's words (``transcriber.relabel``): the text is not recognised again
and no usage is recorded. It is claimed, beaten and fenced like a transcription.

A job is claimed by an atomic ``UPDATE … WHERE status = 'queued'``, so a doubled queue message
runs nothing twice. Every later write is fenced by the claim token: a worker that was presumed
dead (and whose job was re-queued) cannot overwrite the newer attempt's result.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import ColumnElement, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dictionaries.terms import Term
from service.alerts import check_cap
from service.dictionaries import terms_for
from service.models import (
    Job,
    JobKind,
    JobStatus,
    MinutesRevision,
    Recording,
    TranscriptRecord,
    utcnow,
)
from service.peaks import store_peaks
from service.queue import enqueue
from service.search import index_recording
from service.settings import ServiceSettings, get_settings
from service.usage import add_usage_once, new_usage_record
from service.voices import name_by_voice
from transcriber.errors import KirokuError, ModelMissing
from transcriber.pipeline import SpeakerHints
from transcriber.relabel import relabel
from transcriber.transcript import SpeakerTurn, Transcript

log = logging.getLogger(__name__)


class JobCanceled(Exception):
    """The user canceled the job while it ran."""


class DiarizerMissing(ModelMissing):
    """A relabel job reached a worker without speaker diarization: another worker may have it."""

    ja = "この処理装置では話者分離が使えません"
    en = "speaker diarization is not available on this worker"


class ClaimLost(Exception):
    """Another worker owns this job now (this one was presumed dead)."""


# Runs the pipeline: (audio path, progress(stage, fraction), terms, hints) -> transcript.
TranscribeFn = Callable[[Path, Callable[[str, float], None], list[Term], SpeakerHints], Transcript]
# Finds who speaks when: (audio path, hints) -> turns. Raises ModelMissing where no diarizer is set up.
DiarizeFn = Callable[[Path, SpeakerHints], list[SpeakerTurn]]


@dataclass(frozen=True)
class RunnerConfig:
    storage: Path
    heartbeat_seconds: float = 5.0
    retry_base_seconds: float = 10.0
    model_name: str = ""
    settings: ServiceSettings | None = None  # the worker's, for the usage-cap alert; None: get_settings()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim(engine: Engine, job_id: int, token: str) -> bool:
    now = utcnow()
    with engine.begin() as conn:
        result = conn.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status) == JobStatus.queued, col(Job.cancel_requested).is_(False))
            .values(
                status=JobStatus.running,
                worker=token,
                heartbeat_at=now,
                started_at=now,
                attempts=col(Job.attempts) + 1,
                stage="",
                progress=0.0,
                error="",
            )
        )
        return bool(result.rowcount)


def _fenced(job_id: int, token: str) -> tuple[ColumnElement[bool], ...]:
    return (col(Job.id) == job_id, col(Job.worker) == token, col(Job.status) == JobStatus.running)


class _Heartbeat(threading.Thread):
    """Beats while the job runs; learns of cancellation and of a lost claim."""

    def __init__(self, engine: Engine, job_id: int, token: str, every: float) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.engine, self.job_id, self.token, self.every = engine, job_id, token, every
        self.stop = threading.Event()
        self.canceled = False
        self.lost = False

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    beat = conn.execute(
                        update(Job).where(*_fenced(self.job_id, self.token)).values(heartbeat_at=utcnow())
                    )
                    if not beat.rowcount:
                        self.lost = True
                        return
                    flag = conn.execute(select(Job.cancel_requested).where(col(Job.id) == self.job_id)).scalar()
                    self.canceled = bool(flag)
            except Exception:  # a database hiccup must not kill the job; the next beat retries
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=True)


class _Progress:
    """Writes stage and progress to the job row at most once a second; raises on cancel/lost claim."""

    def __init__(self, engine: Engine, job_id: int, token: str, heartbeat: _Heartbeat) -> None:
        self.engine, self.job_id, self.token, self.heartbeat = engine, job_id, token, heartbeat
        self.last = 0.0
        self.stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        if self.heartbeat.canceled:
            raise JobCanceled
        if self.heartbeat.lost:
            raise ClaimLost
        now = time.monotonic()
        if stage == self.stage and now - self.last < 1.0 and fraction < 1.0:
            return
        self.stage, self.last = stage, now
        with self.engine.begin() as conn:
            conn.execute(update(Job).where(*_fenced(self.job_id, self.token)).values(stage=stage, progress=fraction))


def _finish(engine: Engine, job_id: int, token: str, status: JobStatus, error: str = "") -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Job).where(*_fenced(job_id, token)).values(status=status, error=error, finished_at=utcnow())
        )


def _retry_or_fail(engine: Engine, job: Job, token: str, reason: str, config: RunnerConfig) -> None:
    assert job.id is not None
    attempts = job.attempts + 1
    if attempts >= job.max_attempts:
        _finish(engine, job.id, token, JobStatus.failed, f"処理に{attempts}回失敗しました: {reason}")
        return
    with engine.begin() as conn:
        done = conn.execute(
            update(Job).where(*_fenced(job.id, token)).values(status=JobStatus.queued, worker="", error=reason)
        )
    if done.rowcount:
        enqueue(job.id, countdown=config.retry_base_seconds * 2 ** (attempts - 1))


def _hints(job: Job, recording: Recording) -> SpeakerHints:
    if job.kind != JobKind.relabel:
        return SpeakerHints(exact=recording.expected_speakers)
    if job.min_speakers is not None and job.min_speakers == job.max_speakers:
        return SpeakerHints(exact=job.min_speakers)
    return SpeakerHints(minimum=job.min_speakers, maximum=job.max_speakers)


def _transcribe(
    transcribe: TranscribeFn, audio: Path, terms: list[Term], hints: SpeakerHints, progress: _Progress
) -> Transcript:
    return transcribe(audio, progress, terms, hints)


def _relabel(
    diarize: DiarizeFn, audio: Path, machine: Transcript, hints: SpeakerHints, progress: _Progress
) -> Transcript:
    progress("diarize", 0.0)
    turns = diarize(audio, hints)
    progress("diarize", 1.0)  # the last chance to notice a cancel before the transcript is replaced
    relabeled = relabel(machine, turns)
    # The speakers are found now: a failure of the first diarization no longer applies.
    kept = [failure for failure in relabeled.failed_stages if failure.stage != "diarization"]
    return relabeled.model_copy(update={"failed_stages": kept})


def _no_diarizer(audio: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
    raise DiarizerMissing


def run_job(
    engine: Engine, job_id: int, transcribe: TranscribeFn, config: RunnerConfig, diarize: DiarizeFn = _no_diarizer
) -> JobStatus | None:
    """Run one job to an end state. Returns None when the job was not this worker's to run."""
    token = worker_name()
    if not _claim(engine, job_id, token):
        log.info("job %s is not queued (done, canceled or taken); skipping", job_id)
        return None
    with Session(engine) as db:
        job = db.get(Job, job_id)
        assert job is not None
        recording = db.get(Recording, job.recording_id)
        if recording is None or recording.deleted_at is not None or not recording.audio_path:
            _finish(engine, job_id, token, JobStatus.failed, "録音が削除されています。")
            return JobStatus.failed
        hints = _hints(job, recording)
        audio = config.storage / recording.audio_path
        work: Callable[[_Progress], Transcript]
        if job.kind == JobKind.relabel:
            stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
            if stored is None:
                _finish(engine, job_id, token, JobStatus.failed, "文字起こしがありません。")
                return JobStatus.failed
            work = partial(_relabel, diarize, audio, Transcript.model_validate(stored.body), hints)
        else:
            work = partial(_transcribe, transcribe, audio, terms_for(db, recording), hints)
        attempt_job = job.model_copy()
        kind, department_id = job.kind, recording.department_id
        attempt_job.attempts -= 1  # the claim counted this attempt already
    heartbeat = _Heartbeat(engine, job_id, token, config.heartbeat_seconds)
    heartbeat.start()
    started = time.monotonic()
    try:
        transcript = work(_Progress(engine, job_id, token, heartbeat))
    except JobCanceled:
        _finish(engine, job_id, token, JobStatus.canceled)
        return JobStatus.canceled
    except ClaimLost:
        log.warning("job %s was re-queued while this worker ran it; dropping this attempt", job_id)
        return None
    except ModelMissing as error:  # the worker's set-up, not the recording: retry (maybe elsewhere)
        log.error("job %s: %s", job_id, error.message)
        _retry_or_fail(engine, attempt_job, token, error.ja, config)
        return JobStatus.queued
    except KirokuError as error:  # the recording itself is unusable: retrying cannot help
        log.info("job %s failed: %s", job_id, error.en)
        _finish(engine, job_id, token, JobStatus.failed, f"{error.ja}。")
        return JobStatus.failed
    except Exception as error:
        # The kind of error only: its message and traceback may quote the transcript or the audio's
        # path (a validation error shows its input). They are logged at DEBUG for the one debugging it.
        log.error("job %s crashed: %s", job_id, type(error).__name__)
        log.debug("job %s crashed", job_id, exc_info=True)
        _retry_or_fail(engine, attempt_job, token, f"内部エラー ({type(error).__name__})", config)
        return JobStatus.queued
    finally:
        heartbeat.stop.set()
    if kind != JobKind.relabel:
        transcript = _name_known_voices(engine, department_id, transcript, audio)
    return _store(engine, job_id, token, transcript, time.monotonic() - started, config)


def _name_known_voices(engine: Engine, department_id: int, transcript: Transcript, audio: Path) -> Transcript:
    """The department's known voices pre-filled as names marked 声で推定 (issue 26); never fails the job."""
    try:
        with Session(engine) as db:
            return name_by_voice(db, department_id, transcript, audio)
    except Exception as error:  # naming is a convenience: the transcript is stored without it
        log.warning("voice naming skipped for a job: %s", type(error).__name__)
        return transcript


def _not_stored(engine: Engine, job_id: int, token: str) -> JobStatus | None:
    """Why the fence held: canceled or deleted meanwhile (the job ends canceled), or another worker's now."""
    with Session(engine) as db:
        job = db.get(Job, job_id)
        if job is None or job.worker != token or job.status != JobStatus.running:
            log.warning("job %s was re-queued while this worker ran it; its result is dropped", job_id)
            return None
    log.info("job %s was canceled or its recording deleted while it ran; nothing stored", job_id)
    _finish(engine, job_id, token, JobStatus.canceled)
    return JobStatus.canceled


def _store(
    engine: Engine, job_id: int, token: str, transcript: Transcript, seconds: float, config: RunnerConfig
) -> JobStatus | None:
    """Transcript, usage record and the job's end state in one transaction, fenced by the claim.

    A relabel records no usage (nothing was recognised) and gives way to minutes saved meanwhile:
    the clerks edited them from the old speakers, and revision 0 must stay what they started from."""
    with Session(engine) as db:
        # The fence and the end state in one conditional update, the transaction's first statement:
        # still this worker's, not canceled, the recording not deleted. It locks the job row (SQLite:
        # the database) until the commit, so a cancel or a deletion lands wholly before it (nothing is
        # stored) or wholly after it (and removes what was stored).
        live = select(Recording.id).where(
            col(Recording.id) == col(Job.recording_id), col(Recording.deleted_at).is_(None)
        )
        done = db.connection().execute(
            update(Job)
            .where(*_fenced(job_id, token), col(Job.cancel_requested).is_(False), live.exists())
            .values(status=JobStatus.succeeded, stage="done", progress=1.0, finished_at=utcnow())
        )
        if not done.rowcount:
            db.rollback()
            return _not_stored(engine, job_id, token)
        job = db.get(Job, job_id)
        assert job is not None
        recording = db.exec(select(Recording).where(Recording.id == job.recording_id).with_for_update()).first()
        assert recording is not None and recording.id is not None
        relabeling = job.kind == JobKind.relabel
        if relabeling:
            saved = db.exec(select(MinutesRevision.id).where(MinutesRevision.recording_id == recording.id)).first()
            if saved is not None:
                job.status, job.finished_at = JobStatus.failed, utcnow()
                job.error = "議事録が保存されたため、話者数は変更しませんでした。"
                db.add(job)
                db.commit()
                return JobStatus.failed
            if job.min_speakers is not None and job.min_speakers == job.max_speakers:
                recording.expected_speakers = job.min_speakers  # a later re-run keeps the clerk's count
        if transcript.duration > 0:
            recording.duration_seconds = transcript.duration  # decoded length beats the header's
        body = transcript.to_json_dict()
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
        if stored is None:
            stored = TranscriptRecord(recording_id=recording.id, body=body, model=transcript.model or "")
        else:
            stored.body, stored.model, stored.created_at = body, transcript.model or "", utcnow()
        db.add(stored)
        db.add(recording)
        usage = new_usage_record(recording, transcript.model or config.model_name, seconds)
        counted = False if relabeling else add_usage_once(db, usage)
        recording.machine_chars = len(transcript.text)
        db.commit()
        index_recording(db, job.recording_id)  # full-text search; never raises
        if not relabeling:
            store_peaks(config.storage, recording.audio_path)  # the editor's overview strip; never raises
        if counted:
            try:
                check_cap(db, recording.department_id, usage.month, config.settings or get_settings())
            except Exception:  # an alert must never fail the job that is already stored
                log.exception("cap check failed for department %s", recording.department_id)
    return JobStatus.succeeded

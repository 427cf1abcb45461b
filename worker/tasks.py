"""The Celery task that the API sends by name, and the worker process around it."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from dictionaries.terms import Term
from service.db import engine_for, migrate
from service.maintenance import Upkeep, start_loop
from service.queue import QUEUE, TASK_NAME, celery_app
from service.settings import ServiceSettings, get_settings
from transcriber.audio import decode
from transcriber.pipeline import Pipeline, PipelineOptions, SpeakerHints
from transcriber.progress import StageProgressFn
from transcriber.transcript import SpeakerTurn, Transcript
from worker.runner import DiarizerMissing, RunnerConfig, run_job

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _pipeline(model: str | None, diarization: str, redecode_share: float) -> Pipeline:
    # Loaded once per worker process: the model stays in memory between jobs.
    return Pipeline(PipelineOptions(model=model, diarization=diarization, term_redecode_share=redecode_share))


def _transcribe(path: Path, progress: StageProgressFn, terms: list[Term], hints: SpeakerHints) -> Transcript:
    settings = get_settings()
    pipeline = _pipeline(settings.asr_model, settings.diarization, settings.redecode_share)
    return pipeline.run(path, progress=progress, terms=terms, speakers=hints)


def _diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
    """A relabel job's speakers, with the worker's loaded diarizer."""
    settings = get_settings()
    pipeline = _pipeline(settings.asr_model, settings.diarization, settings.redecode_share)
    if pipeline.diarizer is None:  # KIROKU_DIARIZATION=off, or torch/pyannote missing
        raise DiarizerMissing
    return pipeline.diarize(decode(path), hints)


def transcribe_task(job_id: int) -> str:
    """Runs every kind of job (the API sends one task name): a transcription or a relabel."""
    settings = get_settings()
    engine = engine_for(settings.resolved_database_url())
    config = RunnerConfig(
        storage=settings.resolved_storage(),
        heartbeat_seconds=settings.heartbeat_seconds,
        retry_base_seconds=settings.retry_base_seconds,
    )
    status = run_job(engine, job_id, _transcribe, config, _diarize)
    return str(status)


def build_app(settings: ServiceSettings) -> Celery:
    app = celery_app(settings.resolved_broker_url())
    app.task(name=TASK_NAME, acks_late=True, ignore_result=True)(transcribe_task)
    return app


_upkeep_stop: list[threading.Event] = []


@worker_ready.connect  # type: ignore[untyped-decorator]
def _start_upkeep(**_: object) -> None:
    settings = get_settings()
    engine = engine_for(settings.resolved_database_url())
    upkeep = Upkeep(settings.stale_after_seconds, settings.retention_days, settings.resolved_storage())
    _upkeep_stop.append(start_loop(engine, upkeep, every=max(1.0, settings.stale_after_seconds / 3)))


@worker_shutdown.connect  # type: ignore[untyped-decorator]
def _stop_upkeep(**_: object) -> None:
    for stop in _upkeep_stop:
        stop.set()


def run_worker(loglevel: str = "INFO", preload: bool = True) -> None:
    """Run a worker in this process: one job at a time (one per GPU), acknowledged when done."""
    settings = get_settings()
    migrate(settings.resolved_database_url())
    app = build_app(settings)
    if preload:
        log.info("loading the recognition model")
        _pipeline(settings.asr_model, settings.diarization, settings.redecode_share)
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--concurrency=1",
            f"--queues={QUEUE}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )

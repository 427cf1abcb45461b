"""The Celery task that the API sends by name, and the worker process around it.

The worker's settings are the process's ``get_settings()``, read once (tests clear it after changing
the environment); everything below this module receives them as arguments.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from dictionaries.terms import Term
from service.db import engine_for, migrate
from service.maintenance import start_upkeep
from service.queue import QUEUE, TASK_NAME, celery_app
from service.settings import ServiceSettings, get_settings
from transcriber.audio import decode
from transcriber.pipeline import Pipeline, PipelineOptions, SpeakerHints
from transcriber.progress import StageProgressFn
from transcriber.settings import EngineSettings
from transcriber.transcript import SpeakerTurn, Transcript
from worker.runner import DiarizerMissing, RunnerConfig, run_job

log = logging.getLogger(__name__)


def _options(settings: EngineSettings) -> PipelineOptions:
    return PipelineOptions(
        model=settings.asr_model,
        device=settings.device,
        compute_type=settings.compute_type,
        diarization=settings.diarization,
        term_redecode_share=settings.redecode_share,
    )


@lru_cache(maxsize=1)
def _pipeline(settings: EngineSettings) -> Pipeline:
    # Loaded once per worker process: the model stays in memory between jobs.
    return Pipeline(_options(settings), settings)


def _transcribe(path: Path, progress: StageProgressFn, terms: list[Term], hints: SpeakerHints) -> Transcript:
    pipeline = _pipeline(get_settings())
    return pipeline.run(path, progress=progress, terms=terms, speakers=hints)


def _diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
    """A relabel job's speakers, with the worker's loaded diarizer."""
    pipeline = _pipeline(get_settings())
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
        settings=settings,
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
    _upkeep_stop.append(start_upkeep(get_settings()))


@worker_shutdown.connect  # type: ignore[untyped-decorator]
def _stop_upkeep(**_: object) -> None:
    for stop in _upkeep_stop:
        stop.set()


def run_worker(settings: ServiceSettings, loglevel: str = "INFO", preload: bool = True) -> None:
    """Run a worker in this process: one job at a time (one per GPU), acknowledged when done.

    ``settings``: ``kiroku worker``'s, which are also the process's ``get_settings()`` that the
    tasks read when a job arrives.
    """
    migrate(settings.resolved_database_url())
    app = build_app(settings)
    if preload:
        log.info("loading the recognition model")
        _pipeline(settings)
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

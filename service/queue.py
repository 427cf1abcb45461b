"""The task queue (Celery). The API sends jobs by task name; it never imports the worker.

Embedded default: kombu's SQLAlchemy transport on a SQLite file (no server). Production: Redis.
The database, not the broker, is the truth about a job: a lost or doubled message is harmless
because a worker must claim the job row before it runs it (see ``worker.runner``).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from celery import Celery

from service.storage import private_file

log = logging.getLogger(__name__)

TASK_NAME = "kiroku.transcribe"
QUEUE = "kiroku"


@lru_cache(maxsize=4)
def celery_app(broker_url: str) -> Celery:
    if broker_url.startswith("sqla+sqlite:///"):
        broker_file = Path(broker_url.removeprefix("sqla+sqlite:///"))
        broker_file.parent.mkdir(parents=True, exist_ok=True)
        # Made here owner-only (jobs name recordings), before SQLite would make it with the umask's 0644.
        private_file(broker_file)
    app = Celery("kiroku", broker=broker_url)
    app.conf.update(
        task_default_queue=QUEUE,
        task_ignore_result=True,
        # One job at a time per worker, acknowledged only when done: a crash does not lose it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
    )
    return app


def get_celery() -> Celery:
    from service.settings import get_settings

    return celery_app(get_settings().resolved_broker_url())


def enqueue(job_id: int, countdown: float = 0.0) -> bool:
    """Send a job to the workers. A broker outage is logged, not raised: the job row stays
    ``queued`` and the maintenance loop sends it again."""
    try:
        get_celery().send_task(TASK_NAME, args=[job_id], countdown=countdown or None, queue=QUEUE)
        return True
    except Exception:  # the broker's many connection errors; the row is the truth
        log.exception("could not send job %s to the broker; it will be re-sent", job_id)
        return False

"""What the worker sends through the broker and the mail server, read back from them (issue 28):
a failed job comes back later and later, a job no worker took is sent again, and a department's
managers are mailed once when its month reaches 80 % and 100 % of its cap.

The broker is the real one of each backend (kombu's SQLite transport, Redis); the mail server is a
real SMTP server on loopback (aiosmtpd).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from service.maintenance import resend_queued
from service.models import Department, Job, Recording, Role, UsageAlert, User, utcnow
from service.queue import QUEUE, get_celery
from service.settings import get_settings
from tests.conftest import SINGLE
from tests.service.conftest import World
from transcriber.transcript import Transcript
from worker.runner import RunnerConfig, run_job


@pytest.fixture(autouse=True)
def own_queue(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis: a database of this file's own, so messages of tests running beside it (another
    checkout's suite on the same server) never show up in the queue read here."""
    from service.queue import celery_app

    url = service_env["KIROKU_BROKER_URL"]
    if url.startswith("redis://"):
        import redis

        own = url.rsplit("/", 1)[0] + "/13"
        redis.Redis.from_url(own).flushdb()
        monkeypatch.setenv("KIROKU_BROKER_URL", own)
        get_settings.cache_clear()
        celery_app.cache_clear()


def _upload(world: World, user: str = "clerk_kita") -> dict[str, Any]:
    with SINGLE.open("rb") as handle:
        response = world.client(user).post("/api/v1/recordings", files={"file": handle}, data={"kind": "meeting"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _messages() -> list[tuple[int, datetime | None]]:
    """Every job message waiting in the broker's queue (taken off it): (job id, eta)."""
    found: list[tuple[int, datetime | None]] = []
    with get_celery().connection_for_read() as connection:
        queue = connection.SimpleQueue(QUEUE)
        try:
            while True:
                try:
                    message = queue.get(timeout=2)
                except queue.Empty:
                    return found
                eta = message.headers.get("eta")
                found.append((int(message.payload[0][0]), datetime.fromisoformat(eta) if eta else None))
                message.ack()
        finally:
            queue.close()


def test_a_failed_job_is_sent_again_later_each_time(world: World, service_env: dict[str, str]) -> None:
    created = _upload(world)
    assert [job for job, _ in _messages()] == [created["job_id"]]  # the upload's own message
    config = RunnerConfig(storage=Path(service_env["KIROKU_STORAGE_DIR"]), heartbeat_seconds=0.5, retry_base_seconds=30)

    def crash(path: Path, progress: object, terms: object, hints: object) -> Transcript:
        raise RuntimeError("GPU fell off the bus")

    delays = []
    for _ in (1, 2):
        before = utcnow()
        assert run_job(world.engine, created["job_id"], crash, config) == "queued"
        (job_id, eta), *more = _messages()
        assert job_id == created["job_id"] and not more and eta is not None
        delays.append((eta.replace(tzinfo=None) - before.replace(tzinfo=None)).total_seconds())
    # 30 s, then 60 s: the worker backs off instead of hammering a broken GPU or a full disk.
    assert 29 <= delays[0] <= 40 and 59 <= delays[1] <= 70, delays
    assert run_job(world.engine, created["job_id"], crash, config) == "queued"
    assert _messages() == []  # the third failure is the last: nothing comes back
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None and job.status == "failed"


def test_a_job_no_worker_took_reaches_the_broker_again(world: World) -> None:
    created = _upload(world)
    assert [job for job, _ in _messages()] == [created["job_id"]]
    assert resend_queued(world.engine, older_than=60) == []
    assert _messages() == []  # nothing is sent for a job that has waited only a moment
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None
        job.queued_at = utcnow() - timedelta(minutes=10)
        db.add(job)
        db.commit()
    assert resend_queued(world.engine, older_than=60) == [created["job_id"]]
    assert [job for job, _ in _messages()] == [created["job_id"]]


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("KIROKU_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KIROKU_SMTP_PORT", str(port))
    get_settings.cache_clear()
    try:
        yield handler
    finally:
        controller.stop()
        get_settings.cache_clear()


def test_managers_are_mailed_once_at_80_and_100_percent_of_the_cap(
    world: World, service_env: dict[str, str], inbox: _Inbox
) -> None:
    with Session(world.engine) as db:
        manager = db.exec(select(User).where(User.name == "manager_kita")).one()
        manager.email = "kita-manager@city.example"
        department = db.get(Department, manager.department_id)
        assert department is not None and manager.role == Role.manager
        department.monthly_cap_hours = 1.0
        db.add(manager)
        db.add(department)
        db.commit()
        department_name = department.name
    config = RunnerConfig(
        storage=Path(service_env["KIROKU_STORAGE_DIR"]), heartbeat_seconds=0.5, settings=get_settings()
    )

    def recognised(minutes: float) -> Any:
        def transcribe(path: Path, progress: object, terms: object, hints: object) -> Transcript:
            return Transcript(duration=minutes * 60, model="whisper-base")

        return transcribe

    # 30 min (50 %), 20 min (83 %), 5 min (92 %), 10 min (108 %): one mail at 80 %, one at 100 %.
    subjects = []
    for minutes in (30, 20, 5, 10):
        created = _upload(world)
        assert run_job(world.engine, created["job_id"], recognised(minutes), config) == "succeeded"
        subjects.append([str(m["Subject"]) for m in inbox.mails])
    assert [len(s) for s in subjects] == [0, 1, 1, 2], subjects
    first, second = inbox.mails
    assert "80%" in str(first["Subject"]) and "100%" in str(second["Subject"])
    assert department_name in str(first["Subject"])
    assert first["To"] == second["To"] == "kita-manager@city.example"  # the department's manager only
    with Session(world.engine) as db:
        alerts = db.exec(select(UsageAlert)).all()
        assert sorted(a.level for a in alerts) == [80, 100] and all(a.emailed_at for a in alerts)
        assert all(r.duration_seconds for r in db.exec(select(Recording)).all())

"""Service test fixtures: a fresh database (SQLite, and a real PostgreSQL when reachable), a broker
(the embedded SQLite one, or a real Redis), storage in a temporary folder, and logged-in clients."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import missing_service

PG_ADMIN_URL = os.environ.get("KIROKU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("KIROKU_TEST_REDIS", "redis://127.0.0.1:6379/9")
PASSWORD = "correct-horse-battery"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    broker_url: str


def _postgres_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = f"kiroku_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from service.db import engine_for

        engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every service test runs on the embedded defaults and on PostgreSQL + Redis."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'kiroku.db'}", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
        return
    if not (_reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379)):
        missing_service("PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not reachable on this machine")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    yield from (Backend("postgres", url, REDIS_URL) for url in _postgres_database())


@pytest.fixture
def service_env(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The service's settings for this test, in the environment (as `kiroku serve` would read them)."""
    from service.db import engine_for
    from service.queue import celery_app
    from service.settings import get_settings

    env = {
        "KIROKU_DATABASE_URL": backend.database_url,
        "KIROKU_BROKER_URL": backend.broker_url,
        "KIROKU_STORAGE_DIR": str(tmp_path / "storage"),
        "KIROKU_DIARIZATION": "off",
        "KIROKU_STALE_AFTER_SECONDS": "6",
        "KIROKU_HEARTBEAT_SECONDS": "1",
        "KIROKU_RETRY_BASE_SECONDS": "1",
        # Each `kiroku serve` of a test would otherwise load GiNZA (10–18 s of CPU) in the background;
        # the publication tests load it on first use, and test_personal_data_warm_up covers the warm-up.
        "KIROKU_WARM_UP_PERSONAL_DATA": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    celery_app.cache_clear()
    yield env
    get_settings.cache_clear()
    celery_app.cache_clear()
    engine_for.cache_clear()


@pytest.fixture
def engine(service_env: dict[str, str]) -> Engine:
    from service.bootstrap import prepare
    from service.db import get_engine
    from service.settings import get_settings

    prepare(get_settings())
    return get_engine()


@dataclass
class World:
    """Two departments with a clerk, a manager and an admin (admin in a third department)."""

    engine: Engine
    app: object

    def client(self, user: str | None = None) -> TestClient:
        client = TestClient(self.app)  # type: ignore[arg-type]
        if user is not None:
            response = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client


@pytest.fixture
def world(engine: Engine) -> World:
    from sqlmodel import Session

    from api.app import create_app
    from service.accounts import add_user
    from service.models import Role

    with Session(engine) as db:
        for dep, suffix in (("北区役所 保健福祉課", "kita"), ("財政局 税務部", "zaisei")):
            add_user(db, f"clerk_{suffix}", Role.clerk, dep, PASSWORD)
            add_user(db, f"manager_{suffix}", Role.manager, dep, PASSWORD)
        add_user(db, "root_admin", Role.admin, "デジタル統括室", PASSWORD)
    return World(engine, create_app())


@pytest.fixture(scope="session")
def transcribe_fn() -> object:
    """The real pipeline (Whisper base, no diarization) as the worker calls it."""
    from transcriber.pipeline import Pipeline, PipelineOptions

    pipeline = Pipeline(PipelineOptions(diarization="off"))

    def transcribe(path, progress, terms, hints):
        return pipeline.run(path, progress=progress, terms=terms, speakers=hints)

    return transcribe


def run_queued_job(engine: Engine, job_id: int, transcribe: object, storage: Path) -> object:
    """Do what a worker does when the job's message arrives."""
    from worker.runner import RunnerConfig, run_job

    return run_job(engine, job_id, transcribe, RunnerConfig(storage=storage, heartbeat_seconds=0.5))  # type: ignore[arg-type]

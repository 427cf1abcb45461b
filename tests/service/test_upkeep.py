"""Keeping the service in shape: uploads past 2 GiB, abandoned uploads cleaned away, migrations that
match the models, the search index failing without leaking text, and `kiroku serve` stopped by
SIGTERM taking its worker with it. Every test runs on SQLite and on PostgreSQL (+ Redis)."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from sqlmodel import Session, select

from service.models import Recording, UploadSession, utcnow
from tests.service.processes import Process, free_port, service_process_env, wait_until_up
from tests.service.test_device_uploads import UPLOADS, create, head, patch

GIB = 1024**3
OLD_COLUMN_LIMIT = 2**31 - 1  # what 32-bit integer columns hold


@dataclass(frozen=True)
class Device:
    engine: Engine
    client: TestClient
    key: str
    department_id: int
    storage: Path


@pytest.fixture
def device(engine: Engine, service_env: dict[str, str]) -> Device:
    from api.app import create_app
    from service.accounts import add_device

    with Session(engine) as db:
        added, key = add_device(db, "北区役所 第1会議室", "北区役所 保健福祉課")
        department_id = added.department_id
    return Device(engine, TestClient(create_app()), key, department_id, Path(service_env["KIROKU_STORAGE_DIR"]))


# --- sizes past 2 GiB -----------------------------------------------------------------------------


def test_an_upload_past_2_gib_is_accepted_and_its_sizes_stored(device: Device, backend: Any) -> None:
    from service.settings import get_settings

    limit = get_settings().max_upload_bytes
    assert limit > OLD_COLUMN_LIMIT  # the default 4 GB
    options = device.client.options(UPLOADS)
    assert int(options.headers["Tus-Max-Size"]) == limit  # no longer capped at 2 GiB − 1

    big = 3 * GIB + 7  # only announced: a few bytes are sent, the rest is metadata
    created = create(device.client, device.key, big, title="第5回 全体会議", recording_id="big-1")
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    sent = patch(device.client, device.key, url, 0, b"\0" * 4096)
    assert sent.status_code == 204, sent.text
    state = head(device.client, device.key, url)
    assert (state.headers["Upload-Offset"], state.headers["Upload-Length"]) == ("4096", str(big))
    assert create(device.client, device.key, big, recording_id="big-1").status_code == 200  # found again
    too_big = create(device.client, device.key, limit + 1, recording_id="big-2")
    assert too_big.status_code == 413

    # The row holds every size a device may announce, and a recording's byte count as large.
    upload_id = url.rsplit("/", 1)[1]
    with Session(device.engine) as db:
        session = db.get(UploadSession, upload_id)
        assert session is not None and session.length == big
        session.offset = limit - 1
        recording = Recording(department_id=device.department_id, audio_bytes=limit - 1)
        db.add_all([session, recording])
        db.commit()
        recording_id = recording.id
    with Session(device.engine) as db:
        stored_session, stored_recording = db.get(UploadSession, upload_id), db.get(Recording, recording_id)
        assert stored_session is not None and stored_session.offset == limit - 1
        assert stored_recording is not None and stored_recording.audio_bytes == limit - 1
        if backend.name == "postgres":
            types = db.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE (table_name, column_name) IN "
                    "(('uploadsession', 'length'), ('uploadsession', 'offset'), ('recording', 'audio_bytes'))"
                )
            ).all()
            assert sorted(types) == [
                ("recording", "audio_bytes", "bigint"),
                ("uploadsession", "length", "bigint"),
                ("uploadsession", "offset", "bigint"),
            ]


# --- abandoned uploads ----------------------------------------------------------------------------


def _age(device: Device, upload_id: str, days: float) -> None:
    """Make an upload look untouched for ``days``: its row's creation and its partial file's mtime."""
    then = utcnow() - timedelta(days=days)
    with Session(device.engine) as db:
        session = db.get(UploadSession, upload_id)
        assert session is not None
        session.created_at = then
        db.add(session)
        db.commit()
    part = device.storage / "uploads" / f"{upload_id}.part"
    if part.exists():
        os.utime(part, (then.timestamp(), then.timestamp()))


def _start(device: Device, recording_id: str, data: bytes = b"") -> str:
    created = create(device.client, device.key, 10_000, title="田中一郎様 面談", recording_id=recording_id)
    assert created.status_code == 201, created.text
    url: str = created.headers["Location"]
    if data:
        assert patch(device.client, device.key, url, 0, data).status_code == 204
    return url.rsplit("/", 1)[1]


def _rows(engine: Engine) -> set[str]:
    with Session(engine) as db:
        return set(db.exec(select(UploadSession.id)).all())


def test_abandoned_uploads_are_deleted_with_their_bytes(device: Device, caplog: pytest.LogCaptureFixture) -> None:
    from service.maintenance import purge_abandoned_uploads

    folder = device.storage / "uploads"
    stalled = _start(device, "stalled", b"\1" * 3000)  # bytes arrived 8 days ago, then nothing
    empty = _start(device, "empty")  # created 8 days ago, no byte ever
    busy = _start(device, "busy", b"\2" * 1000)  # old, but a PATCH holds its lock right now
    recent = _start(device, "recent", b"\3" * 2000)  # bytes arrived an hour ago
    finished = _start(device, "finished")  # old and finished: it answers the device's retries
    for upload_id in (stalled, empty, busy, finished):
        _age(device, upload_id, 8)
    _age(device, recent, 1 / 24)
    with Session(device.engine) as db:
        row = db.get(UploadSession, finished)
        assert row is not None
        row.completed_at = utcnow() - timedelta(days=8)
        db.add(row)
        db.commit()
    (folder / f"{stalled}.lock").touch()  # left by its last PATCH
    assert (folder / f"{stalled}.part").stat().st_size == 3000

    caplog.set_level(logging.INFO, logger="service.maintenance")
    lock = os.open(folder / f"{busy}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert purge_abandoned_uploads(device.engine, device.storage, days=7) == 2
    finally:
        os.close(lock)

    assert _rows(device.engine) == {busy, recent, finished}
    on_disk = {p.name for p in folder.iterdir()}
    assert not {f"{stalled}.part", f"{stalled}.lock", f"{empty}.part"} & on_disk
    assert {f"{busy}.part", f"{recent}.part"} <= on_disk
    gone = head(device.client, device.key, f"{UPLOADS}/{stalled}")
    assert gone.status_code == 404
    # The device comes back: its upload starts again from the first byte.
    again = create(device.client, device.key, 10_000, recording_id="stalled")
    assert again.status_code == 201 and again.headers["Upload-Offset"] == "0"
    assert patch(device.client, device.key, f"{UPLOADS}/{recent}", 2000, b"\4" * 10).status_code == 204

    # Logged: how many and how much, never the titles or names in the uploads' metadata.
    logged = [r.getMessage() for r in caplog.records if r.name == "service.maintenance"]
    assert logged == ["uploads: deleted 2 abandoned for 7 days (3000 bytes)"]

    # Once the PATCH is done, the next round takes the busy one too.
    assert purge_abandoned_uploads(device.engine, device.storage, days=7) == 1
    assert busy not in _rows(device.engine)


def test_upkeep_takes_the_abandonment_time_from_the_settings(device: Device, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.maintenance import Upkeep, run_once
    from service.settings import get_settings

    upload_id = _start(device, "two-days", b"\5" * 100)
    _age(device, upload_id, 2)
    assert Upkeep(30, 90, device.storage).abandoned_upload_days == 7  # the default
    run_once(device.engine, Upkeep(30, 90, device.storage))
    assert upload_id in _rows(device.engine)
    monkeypatch.setenv("KIROKU_ABANDONED_UPLOAD_DAYS", "1.5")
    get_settings.cache_clear()
    run_once(device.engine, Upkeep(30, 90, device.storage))
    assert upload_id not in _rows(device.engine)


# --- migrations ---------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_models(engine: Engine, service_env: dict[str, str]) -> None:
    """`alembic check`: autogenerate finds nothing to do on a migrated database, the search index's own
    objects (FTS5 tables on SQLite, the GIN index on PostgreSQL) included."""
    from alembic import command
    from alembic.config import Config

    from service.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", service_env["KIROKU_DATABASE_URL"])
    config.attributes["configure_logger"] = False
    with engine.connect() as conn:  # the objects the check must leave alone are really there
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'searchfts%'")).scalar()
        else:
            assert conn.execute(text("SELECT to_regclass('ix_searchdocument_grams')")).scalar()
    command.check(config)  # raises AutogenerateDiffsDetected, listing the differences


# --- the search index's error log -----------------------------------------------------------------


def test_a_failed_indexing_is_logged_without_the_text(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import service.search

    secret = "生活保護の申請について山田花子さんから相談"

    def failing(db: Session, recording_id: int) -> None:
        # What a database error says: the statement and its parameters, i.e. the recording's text.
        raise DataError("INSERT INTO searchsegment (text) VALUES (%(text)s)", {"text": secret}, ValueError("too long"))

    monkeypatch.setattr(service.search, "_index", failing)
    caplog.set_level(logging.INFO)
    with Session(engine) as db:
        assert service.search.index_recording(db, 42) is False
    formatter = logging.Formatter()
    shown = [
        r.getMessage() + (formatter.formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
        if r.levelno >= logging.INFO
    ]
    assert any("recording 42" in line and "DataError" in line for line in shown), shown
    assert not [line for line in shown if "山田花子" in line or "生活保護" in line]


# --- kiroku serve and SIGTERM -------------------------------------------------------------------


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, of in parents.items() if of == parent}
        todo += children - found
        found |= children
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.slow
def test_sigterm_stops_serve_and_its_worker(service_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    env = service_process_env(service_env)
    server = Process(["serve", "--port", str(port), "--log-level", "info"], env, tmp_path / "serve.log").start()
    assert server.proc is not None
    pid = server.proc.pid
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        deadline = time.monotonic() + 180
        while " ready." not in server.output():  # Celery's line once the worker takes jobs
            assert time.monotonic() < deadline and server.proc.poll() is None, server.output()
            time.sleep(0.5)
        workers = _descendants(pid)
        assert workers, "kiroku serve started no worker"

        os.kill(pid, signal.SIGTERM)  # the main process only, as a service manager or `kill` does
        assert server.proc.wait(timeout=90) == 0, server.output()
        deadline = time.monotonic() + 90  # the workers' own shutdown, on a loaded machine
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in workers if Path(f"/proc/{p}").exists()]
        assert not left and not _group_alive(pid), f"still running: {left}\n{server.output()}"
        assert "Traceback" not in server.output()
        assert "停止しました" in server.output()
    finally:
        if _group_alive(pid):  # whatever the outcome, nothing of this test keeps running
            os.killpg(pid, signal.SIGKILL)
        server.kill()

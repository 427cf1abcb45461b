"""Recordings on disk are the service's alone (0600 files, 0700 folders) however they arrive; a request
naming an unknown upload leaves no lock file; exports and department changes are audited."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.bootstrap import prepare
from service.models import AuditEvent
from service.queue import celery_app
from service.settings import get_settings
from tests.service.conftest import World
from tests.service.hardening import tiny_wav
from tests.service.test_device_uploads import Devices, create, devices, patch, tus

__all__ = ["devices"]  # the fixture, used here

UPLOADS = "/api/v1/uploads"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most servers run with (0644 files): what the service must not rely on."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_uploaded_word_templates_are_owner_only(world: World, service_env: dict[str, str], usual_umask: None) -> None:
    admin = world.client("root_admin")
    buffer = io.BytesIO()
    Document().save(buffer)
    files = {"file": ("北区会議録.docx", buffer.getvalue(), "application/octet-stream")}
    added = admin.post("/api/v1/admin/templates", data={"kind": "meeting"}, files=files)
    assert added.status_code == 201, added.text
    folder = Path(service_env["KIROKU_STORAGE_DIR"]) / "templates"
    stored = list((folder / "uploaded").iterdir())
    assert [_mode(p) for p in stored] == [0o600]
    assert {_mode(folder), _mode(folder / "uploaded")} == {0o700}


def test_the_embedded_broker_file_is_owner_only(tmp_path: Path, usual_umask: None) -> None:
    broker = tmp_path / "home" / "broker.sqlite"
    app = celery_app(f"sqla+sqlite:///{broker}")
    try:
        app.send_task("kiroku.transcribe", args=[1], queue="kiroku")  # kombu opens (and makes) the file
    finally:
        celery_app.cache_clear()
    assert broker.is_file() and _mode(broker) == 0o600


def test_device_uploads_are_stored_owner_only(devices: Devices, service_env: dict[str, str]) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    client = devices.client()
    data = tiny_wav(seconds=1.0)
    created = create(client, devices.kita, len(data), recording_id="rec-perm")
    url = created.headers["Location"]
    half = len(data) // 2
    assert patch(client, devices.kita, url, 0, data[:half]).status_code == 204
    partial = next((storage / "uploads").glob("*.part"))
    assert _mode(partial) == 0o600  # half a recording is a recording too
    assert patch(client, devices.kita, url, half, data[half:]).status_code == 204
    stored = list((storage / "audio").iterdir())
    assert len(stored) == 1 and _mode(stored[0]) == 0o600
    assert {_mode(storage), _mode(storage / "audio"), _mode(storage / "uploads")} == {0o700}


def test_web_uploads_and_the_database_are_owner_only(world: World, service_env: dict[str, str]) -> None:
    clerk = world.client("clerk_kita")
    wav = {"file": ("a.wav", tiny_wav(), "audio/wav")}
    made = clerk.post("/api/v1/recordings", files=wav, data={"kind": "meeting"})
    assert made.status_code == 201, made.text
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    assert [_mode(p) for p in (storage / "audio").iterdir()] == [0o600]
    url = service_env["KIROKU_DATABASE_URL"]
    if url.startswith("sqlite"):
        database = Path(url.split("///", 1)[1])
        assert _mode(database) == 0o600
        assert all(_mode(p) == 0o600 for p in database.parent.glob(database.name + "-*"))  # -wal, -shm


def test_an_upgrade_tightens_what_was_stored_before(engine: Engine, service_env: dict[str, str]) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    (storage / "audio").mkdir(parents=True, exist_ok=True)
    old = storage / "audio" / "0123456789abcdef0123456789abcdef.wav"
    old.write_bytes(b"RIFF")
    old.chmod(0o644)
    (storage / "audio").chmod(0o755)
    prepare(get_settings())
    assert _mode(old) == 0o600 and _mode(storage / "audio") == 0o700


def test_unknown_upload_ids_leave_no_lock_file(devices: Devices, service_env: dict[str, str]) -> None:
    client = devices.client()
    data = tiny_wav()
    theirs = create(client, devices.zaisei, len(data), recording_id="other-department").headers["Location"]
    unknown = f"{UPLOADS}/{'0' * 32}"
    for url in (unknown, theirs):
        patched = patch(client, devices.kita, url, 0, data)
        assert patched.status_code == 404, patched.text
        assert client.delete(url, headers=tus(devices.kita)).status_code == 404
    uploads = Path(service_env["KIROKU_STORAGE_DIR"]) / "uploads"
    assert sorted(p.suffix for p in uploads.iterdir()) == []  # nothing: no .lock, no .part


def test_dictionary_exports_and_new_departments_are_audited(world: World) -> None:
    admin = world.client("root_admin")
    made = admin.post("/api/v1/dictionaries", json={"name": "監査確認"})
    assert made.status_code == 201
    assert admin.get(f"/api/v1/dictionaries/{made.json()['id']}/export").status_code == 200
    department = admin.post("/api/v1/admin/departments", json={"name": "監査用 新設課"})
    assert department.status_code == 201, department.text
    with Session(world.engine) as db:
        actions = {(e.action, e.detail) for e in db.exec(select(AuditEvent)).all()}
    assert ("dictionary.export", f"dictionary {made.json()['id']}") in actions
    assert ("admin.department_add", f"department {department.json()['id']}") in actions

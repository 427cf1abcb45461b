"""Who may read /readyz and /metrics (the ``monitoring`` setting), and /readyz telling a dead
database or broker (503) apart from a ready service."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.settings import get_settings
from tests.service.conftest import PASSWORD, World

LOCAL, REMOTE = ("127.0.0.1", 40001), ("203.0.113.5", 40002)


def _client(world: World, address: tuple[str, int], user: str | None = None) -> TestClient:
    client = TestClient(world.app, client=address)  # type: ignore[arg-type]
    if user is not None:
        assert client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD}).status_code == 200
    return client


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    from service.queue import celery_app

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    celery_app.cache_clear()


def test_monitoring_is_for_this_host_and_admins_by_default(world: World) -> None:
    local = _client(world, LOCAL)
    assert local.get("/readyz").status_code == 200 and "kiroku_jobs" in local.get("/metrics").text
    remote = _client(world, REMOTE)
    for path in ("/readyz", "/metrics"):
        refused = remote.get(path)
        assert refused.status_code == 401 and "kiroku_jobs" not in refused.text, path
        assert _client(world, REMOTE, "clerk_kita").get(path).status_code == 403
        assert _client(world, REMOTE, "root_admin").get(path).status_code == 200
    assert remote.get("/healthz").status_code == 200  # liveness says nothing: anyone


def test_monitoring_can_be_opened_or_closed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, KIROKU_MONITORING="anyone")
    assert _client(world, REMOTE).get("/metrics").status_code == 200
    _use(monkeypatch, KIROKU_MONITORING="admins")
    assert _client(world, LOCAL).get("/metrics").status_code == 401
    assert _client(world, LOCAL, "root_admin").get("/readyz").status_code == 200


def test_readyz_answers_503_when_the_broker_or_the_database_is_down(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _client(world, LOCAL)
    _use(monkeypatch, KIROKU_BROKER_URL="redis://127.0.0.1:9/0")  # nothing listens on the discard port
    down = local.get("/readyz")
    assert down.status_code == 503, down.text
    assert down.json()["status"] == "unavailable" and down.json()["broker"] != "ok" and down.json()["database"] == "ok"
    _use(monkeypatch, KIROKU_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:9/none")
    down = local.get("/readyz")
    assert down.status_code == 503 and down.json()["database"] != "ok", down.text

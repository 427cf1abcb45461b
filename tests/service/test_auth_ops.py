"""Accounts and operations: lockout, sessions, logout, the admin CLI, health and metrics."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlmodel import Session, select

from api.auth import SESSION_COOKIE
from service.models import ApiToken, User
from tests.service.conftest import PASSWORD, World


def test_five_failures_lock_the_name_but_not_others(world: World) -> None:
    client = world.client()
    for _ in range(5):
        response = client.post("/api/v1/auth/login", json={"username": "clerk_kita", "password": "wrong"})
        assert response.status_code == 401 and "違います" in response.json()["detail"]
    locked = client.post("/api/v1/auth/login", json={"username": "clerk_kita", "password": PASSWORD})
    assert locked.status_code == 429 and "お待ちください" in locked.json()["detail"] and "Retry-After" in locked.headers
    assert world.client("clerk_zaisei").get("/api/v1/auth/me").status_code == 200


def test_every_login_gets_a_new_session_and_logout_ends_it(world: World) -> None:
    client = world.client()
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    response = client.post("/api/v1/auth/login", json={"username": "clerk_kita", "password": PASSWORD})
    first = response.cookies[SESSION_COOKIE]
    assert first != "planted-by-an-attacker"
    assert (
        "httponly" in response.headers["set-cookie"].lower()
        and "samesite=lax" in response.headers["set-cookie"].lower()
    )
    again = world.client().post("/api/v1/auth/login", json={"username": "clerk_kita", "password": PASSWORD})
    assert again.cookies[SESSION_COOKIE] != first
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    assert client.post("/api/v1/auth/logout").status_code == 204
    stale = world.client()
    stale.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/api/v1/auth/me").status_code == 401


def test_a_deactivated_user_is_out_at_once(world: World) -> None:
    clerk = world.client("clerk_kita")
    with Session(world.engine) as db:
        user = db.exec(select(User).where(User.name == "clerk_kita")).one()
        user_id = user.id
    assert world.client("root_admin").post(f"/api/v1/admin/users/{user_id}/deactivate").status_code == 200
    assert clerk.get("/api/v1/recordings").status_code == 401


def test_admin_cli_adds_users_and_tokens(world: World, service_env: dict[str, str]) -> None:
    env = {**os.environ, **service_env}

    def kiroku(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiroku", *args], input=stdin, text=True, capture_output=True, env=env, check=False
        )

    added = kiroku(
        "user",
        "add",
        "tanaka",
        "--role",
        "manager",
        "--department",
        "北区役所 保健福祉課",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert kiroku("user", "add", "tanaka", "--role", "clerk", "--department", "x").returncode == 1
    token = kiroku("token", "add", "tanaka", "--label", "集計スクリプト")
    assert token.returncode == 0 and token.stdout.startswith("kk_")
    script = world.client()
    script.headers["Authorization"] = f"Bearer {token.stdout.strip()}"
    me = script.get("/api/v1/auth/me").json()
    assert me["name"] == "tanaka" and me["role"] == "manager"
    assert script.get("/api/v1/usage").status_code == 200
    with Session(world.engine) as db:
        stored = db.exec(select(ApiToken)).one()
        assert stored.token_hash != token.stdout.strip()  # only the hash is kept
    script.headers["Authorization"] = "Bearer kk_guessed"
    assert script.get("/api/v1/auth/me").status_code == 401


def test_health_readiness_metrics_and_openapi(world: World) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(world.app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]  # monitoring: this host
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok" and ready.json()["broker"] == "ok"
    metrics = client.get("/metrics").text
    assert 'kiroku_jobs{status="queued"} 0' in metrics and "kiroku_usage_hours_month" in metrics
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/recordings" in paths and "/api/v1/recordings/{recording_id}/minutes" in paths

"""Wrong passwords slow whoever types them, never the account's owner elsewhere; password hashing is capped.

Time is moved by ageing the stored failures, never by waiting.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from service.models import AuditEvent, LoginFailure, LoginSession, User, utcnow
from service.settings import get_settings
from tests.service.conftest import PASSWORD, World

LOGIN = "/api/v1/auth/login"


def _from(world: World, address: str) -> TestClient:
    return TestClient(world.app, client=(address, 40000))  # type: ignore[arg-type]


def _age(world: World, seconds: float) -> None:
    """As if ``seconds`` had passed since every failure."""
    with Session(world.engine) as db:
        for failure in db.exec(select(LoginFailure)).all():
            failure.at = failure.at - timedelta(seconds=seconds)
            db.add(failure)
        db.commit()


def test_a_stranger_cannot_lock_the_owner_out(world: World) -> None:
    stranger = _from(world, "203.0.113.66")
    for _ in range(5):
        assert stranger.post(LOGIN, json={"username": "root_admin", "password": "guess"}).status_code == 401
    slowed = stranger.post(LOGIN, json={"username": "root_admin", "password": PASSWORD})
    assert slowed.status_code == 429 and "お待ちください" in slowed.json()["detail"]
    assert 0 < int(slowed.headers["Retry-After"]) <= 30
    # The owner, at their own desk, is not locked out.
    owner = _from(world, "10.1.2.3").post(LOGIN, json={"username": "root_admin", "password": PASSWORD})
    assert owner.status_code == 200, owner.text


def test_the_delay_doubles_and_then_expires(world: World) -> None:
    client = _from(world, "198.51.100.7")
    for _ in range(5):
        assert client.post(LOGIN, json={"username": "clerk_kita", "password": "wrong"}).status_code == 401
    first = int(client.post(LOGIN, json={"username": "clerk_kita", "password": "wrong"}).headers["Retry-After"])
    assert 25 <= first <= 30
    _age(world, 30)  # the first delay is over: one more try
    assert client.post(LOGIN, json={"username": "clerk_kita", "password": "wrong"}).status_code == 401
    second = client.post(LOGIN, json={"username": "clerk_kita", "password": "wrong"})
    assert second.status_code == 429 and 55 <= int(second.headers["Retry-After"]) <= 60
    _age(world, 15 * 60 + 1)  # past the window: the failures are forgotten
    assert client.post(LOGIN, json={"username": "clerk_kita", "password": PASSWORD}).status_code == 200


def test_spraying_one_password_over_many_names_is_slowed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIROKU_LOGIN_CLIENT_MAX_FAILURES", "6")
    get_settings.cache_clear()
    sprayer = _from(world, "192.0.2.99")
    names = ["clerk_kita", "clerk_zaisei", "manager_kita", "manager_zaisei", "root_admin", "nobody"]
    for name in names:
        assert sprayer.post(LOGIN, json={"username": name, "password": "Osaka2025!"}).status_code == 401
    slowed = sprayer.post(LOGIN, json={"username": "someone_else", "password": "Osaka2025!"})
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    # Other clients go on as before.
    assert (
        _from(world, "10.9.9.9").post(LOGIN, json={"username": "clerk_kita", "password": PASSWORD}).status_code == 200
    )


def test_password_checks_at_once_are_capped(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.security import PASSWORDS

    monkeypatch.setenv("KIROKU_LOGIN_HASH_CONCURRENCY", "1")
    monkeypatch.setenv("KIROKU_LOGIN_HASH_WAIT_SECONDS", "0")
    get_settings.cache_clear()
    client = world.client()
    assert client.post(LOGIN, json={"username": "clerk_kita", "password": PASSWORD}).status_code == 200
    with PASSWORDS.turn():  # another login is hashing now
        busy = client.post(LOGIN, json={"username": "clerk_kita", "password": PASSWORD})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2" and "混み合って" in busy.json()["detail"]
    assert client.post(LOGIN, json={"username": "clerk_kita", "password": PASSWORD}).status_code == 200
    PASSWORDS.configure(2, 5.0)


def test_failed_logins_and_logouts_are_audited(world: World) -> None:
    client = world.client()
    assert client.post(LOGIN, json={"username": "clerk_kita", "password": "wrong"}).status_code == 401
    assert client.post(LOGIN, json={"username": "my-password-typed-here", "password": "x"}).status_code == 401
    signed_in = world.client("clerk_kita")
    assert signed_in.post("/api/v1/auth/logout").status_code == 204
    with Session(world.engine) as db:
        clerk = db.exec(select(User).where(User.name == "clerk_kita")).one()
        failed = db.exec(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
        assert [(e.user_id, e.detail) for e in failed] == [(clerk.id, ""), (None, "unknown name")]
        assert all("my-password" not in e.detail for e in failed)
        logouts = db.exec(select(AuditEvent).where(AuditEvent.action == "auth.logout")).all()
        assert [e.user_id for e in logouts] == [clerk.id]


def test_old_failures_and_expired_sessions_are_purged(world: World) -> None:
    from service.logins import purge_login_records

    client = world.client("clerk_kita")  # a live session
    assert world.client().post(LOGIN, json={"username": "clerk_kita", "password": "wrong"}).status_code == 401
    with Session(world.engine) as db:
        user_id = db.exec(select(User.id).where(User.name == "clerk_kita")).one()
        assert user_id is not None
        db.add(LoginFailure(username="clerk_kita", ip="10.0.0.1", at=utcnow() - timedelta(days=2)))
        db.add(LoginSession(id="0" * 64, user_id=user_id, csrf_token="x", expires_at=utcnow() - timedelta(hours=1)))
        db.commit()
    from service.maintenance import Upkeep, run_once

    run_once(world.engine, Upkeep.from_settings(get_settings()))
    with Session(world.engine) as db:
        assert len(db.exec(select(LoginFailure)).all()) == 1  # the recent one stays (it still counts)
        assert db.get(LoginSession, "0" * 64) is None
    assert client.get("/api/v1/auth/me").status_code == 200  # the live session stays
    assert purge_login_records(world.engine, 15) == 0
    with world.engine.begin() as conn:
        conn.execute(update(LoginFailure).values(at=utcnow() - timedelta(days=3)).where(col(LoginFailure.id) > 0))
    assert purge_login_records(world.engine, 15) == 1

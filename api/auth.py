"""Who is calling: a browser session (cookie + CSRF header), a bearer token, or a meeting-room device."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlmodel import Session, col, select

from service.access import Caller
from service.accounts import token_usable
from service.db import get_engine
from service.errors import ServiceError, forbidden, unauthenticated
from service.models import ApiToken, Device, LoginSession, Role, User, utcnow
from service.security import new_token, same, token_digest

SESSION_COOKIE = "kiroku_session"
CSRF_COOKIE = "kiroku_csrf"
CSRF_HEADER = "x-csrf-token"
DEVICE_HEADER = "x-device-key"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


async def request_session() -> AsyncIterator[Session]:
    """One database session per request. Made on the event loop (a session touches the database only
    at its first query) and closed in a worker thread (closing hands its connection back, which may
    talk to the database): one thread hop per request for it instead of a sync dependency's two,
    which under load each wait their turn."""
    session = Session(get_engine())
    try:
        yield session
    finally:
        await anyio.to_thread.run_sync(session.close)


DbSession = Annotated[Session, Depends(request_session)]


def client_ip(request: Request | None) -> str:
    """The address an audit record keeps."""
    return request.client.host if request is not None and request.client else ""


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_caller(request: Request, db: DbSession) -> Caller:
    token = _bearer(request)
    if token is not None:
        row = db.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
        if row is None or not token_usable(row):  # revoked or expired
            raise unauthenticated()
        user = db.get(User, row.user_id)
        if user is None or not user.active:
            raise unauthenticated()
        row.last_used_at = utcnow()
        db.add(row)
        db.commit()
        return Caller(user, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise unauthenticated()
    # The session and its user in one round trip: every page and poll passes here.
    found = db.exec(
        select(LoginSession, User)
        .join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.id == token_digest(cookie))
    ).first()
    if found is None:
        raise unauthenticated()
    login, user = found
    if login.expires_at < utcnow() or not user.active:
        raise unauthenticated()
    if request.method in UNSAFE and not same(request.headers.get(CSRF_HEADER, ""), login.csrf_token):
        raise ServiceError(403, "csrf", "ページを再読み込みしてからもう一度お試しください。(CSRF)")
    return Caller(user, "session")


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def require(*roles: Role) -> object:
    def check(caller: CurrentCaller) -> Caller:
        if caller.role not in roles:
            raise forbidden()
        return caller

    return Depends(check)


def start_session(db: Session, user: User, hours: float) -> tuple[str, str]:
    """A new session id on every login (no fixation); returns (cookie token, csrf token)."""
    assert user.id is not None
    token, csrf = new_token(), new_token()
    db.add(
        LoginSession(
            id=token_digest(token), user_id=user.id, csrf_token=csrf, expires_at=utcnow() + timedelta(hours=hours)
        )
    )
    db.commit()
    return token, csrf


def end_session(db: Session, cookie: str | None) -> None:
    if cookie:
        login = db.get(LoginSession, token_digest(cookie))
        if login is not None:
            db.delete(login)
            db.commit()


def current_device(request: Request, db: DbSession) -> Device:
    key = request.headers.get(DEVICE_HEADER) or ""
    if not key:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        key = value.strip() if scheme.lower() == "device" else ""
    if not key:
        raise ServiceError(401, "device_key", "機器キーが必要です。", {"WWW-Authenticate": "Device"})
    device = db.exec(select(Device).where(Device.key_hash == token_digest(key))).first()
    if device is None or not device.active:
        raise ServiceError(401, "device_key", "機器キーが正しくありません。", {"WWW-Authenticate": "Device"})
    device.last_seen_at = utcnow()
    db.add(device)
    db.commit()
    return device


CurrentDevice = Annotated[Device, Depends(current_device)]

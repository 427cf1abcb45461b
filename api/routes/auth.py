"""Log in and out (browser sessions), and who am I."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import select

from api.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentCaller, DbSession, client_ip, end_session, start_session
from api.schemas.auth import LoggedIn, Me
from service import logins
from service.access import Caller, audit
from service.accounts import AccountError, set_password
from service.errors import ServiceError
from service.models import Department, User
from service.security import PASSWORDS, token_digest, verify_password
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


@router.post(
    "/login",
    response_model=LoggedIn,
    summary="ログイン (セッション Cookie を発行)",
    responses={
        429: {"description": "失敗が続いたため待ち時間中 (Retry-After)"},
        503: {"description": "ログインが混み合っています (Retry-After)"},
    },
)
def login(credentials: Credentials, request: Request, response: Response, db: DbSession) -> LoggedIn:
    """Wrong passwords slow this client down for this name (and, many names over, for all names);
    see ``service.logins``. The account's owner elsewhere is never locked out."""
    settings = get_settings()
    client = client_ip(request)
    wait = logins.wait_seconds(db, settings, credentials.username, client)
    if wait:
        raise ServiceError(
            429,
            "locked",
            f"ログインの失敗が続いたため、しばらくお待ちください。{_after(wait)}後に再度お試しください。",
            {"Retry-After": str(wait)},
        )
    PASSWORDS.configure(settings.login_hash_concurrency, settings.login_hash_wait_seconds)
    user = db.exec(select(User).where(User.name == credentials.username)).first()
    ok = verify_password(user.password_hash if user else None, credentials.password)
    if user is None or not ok or not user.active:
        logins.record_failure(db, credentials.username, client)
        # The name tried is not kept when it is no account's: it may be a password typed in the wrong box.
        known = Caller(user, "session") if user is not None else None
        audit(db, "auth.login_failed", caller=known, detail="" if known else "unknown name", ip=client)
        raise ServiceError(401, "bad_credentials", "ユーザー名またはパスワードが違います。")
    token, csrf = start_session(db, user, settings.session_hours)
    max_age = int(settings.session_hours * 3600)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    # Readable by the page's script, which echoes it in X-CSRF-Token (double submit).
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=settings.secure_cookies
    )
    audit(db, "auth.login", caller=Caller(user, "session"), ip=client_ip(request))
    return LoggedIn(user=Me.of(user, db.get(Department, user.department_id)), csrf_token=csrf)


def _after(seconds: int) -> str:
    return f"{math.ceil(seconds / 60)}分" if seconds >= 60 else f"{seconds}秒"


@router.post("/logout", status_code=204, summary="ログアウト")
def logout(request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    end_session(db, request.cookies.get(SESSION_COOKIE))
    audit(db, "auth.logout", caller=caller, ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=8, max_length=1000)


@router.post("/password", status_code=204, summary="自分のパスワードの変更 (今のパスワードが必要)")
def change_password(body: PasswordChange, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    """Other sessions of the user end; this one stays signed in."""
    if not verify_password(caller.user.password_hash, body.current_password):
        audit(db, "auth.password_refused", caller=caller, ip=client_ip(request))
        raise ServiceError(403, "bad_password", "今のパスワードが違います。")
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        set_password(db, caller.user, body.new_password, keep_session=token_digest(cookie) if cookie else None)
    except AccountError as error:
        raise ServiceError(422, "invalid", str(error)) from error
    audit(db, "auth.password_change", caller=caller, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="ログイン中のユーザー")
def me(db: DbSession, caller: CurrentCaller) -> Me:
    return Me.of(caller.user, db.get(Department, caller.user.department_id))

"""Log in and out (browser sessions), and who am I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import col, func, select

from api.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentCaller, DbSession, client_ip, end_session, start_session
from api.schemas.auth import LoggedIn, Me
from service.access import Caller, audit
from service.accounts import AccountError, set_password
from service.errors import ServiceError
from service.models import Department, LoginFailure, User, utcnow
from service.security import token_digest, verify_password
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


@router.post("/login", response_model=LoggedIn, summary="ログイン (セッション Cookie を発行)")
def login(credentials: Credentials, request: Request, response: Response, db: DbSession) -> LoggedIn:
    settings = get_settings()
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    failures = db.exec(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == credentials.username, col(LoginFailure.at) >= window_start)
    ).one()
    if failures >= settings.login_max_failures:
        minutes = round(settings.login_window_minutes)
        raise ServiceError(
            429,
            "locked",
            f"ログインの失敗が続いたため一時的にロックしています。{minutes}分ほど待ってから再度お試しください。",
            {"Retry-After": str(int(settings.login_window_minutes * 60))},
        )
    user = db.exec(select(User).where(User.name == credentials.username)).first()
    ok = verify_password(user.password_hash if user else None, credentials.password)
    if user is None or not ok or not user.active:
        db.add(LoginFailure(username=credentials.username, ip=client_ip(request)))
        db.commit()
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

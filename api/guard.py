"""Who may send a request body, and how large it may be: decided before any byte of it is read.
(Also: no NUL character in a request's path or query, which no route can store or look up.)

An ASGI middleware in front of every route. A request that carries a body is answered at once when

- it names no valid credentials for its route (401), or a session without its CSRF token (403):
  only the login itself takes a body from anyone. A browser session or bearer token for the API,
  a device key for the resumable uploads, checked exactly as the routes check them (``api.auth``);
- its ``Content-Length`` is over the route's limit (413).

Otherwise the body is counted as it arrives and refused (413) as soon as it passes the limit, so
neither memory nor the temporary directory ever holds more than the limit. Limits per route: the
uploads keep the upload limit, a minutes save the minutes limit, a CSV import the import limit; every
other body (JSON) the global ``max_json_bytes``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import anyio
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.db import get_engine
from service.dictionaries import MAX_IMPORT_BYTES
from service.errors import ServiceError
from service.minutes import MAX_MINUTES_BYTES
from service.records.templates import MAX_TEMPLATE_BYTES
from service.settings import ServiceSettings, get_settings
from service.storage import FORM_ALLOWANCE, too_large

UPLOADS = "/api/v1/uploads"
LOGIN = ("POST", "/api/v1/auth/login")
LOGIN_BYTES = 16 * 1024  # a name and a password, as JSON
FORM_FRAMING = 64 * 1024  # a file form's other fields and its multipart framing
UPLOAD = -1  # stands for the settings' upload limit (it is read per request)

# Routes whose body may pass the JSON limit (as declared; every other body has ``max_json_bytes``).
OWN_LIMITS: dict[tuple[str, str], int] = {
    ("POST", "/api/v1/recordings"): UPLOAD,
    ("PATCH", f"{UPLOADS}/{{upload_id}}"): UPLOAD,
    ("PUT", "/api/v1/recordings/{recording_id}/minutes"): MAX_MINUTES_BYTES,
    ("POST", "/api/v1/dictionaries/{dictionary_id}/import"): MAX_IMPORT_BYTES + FORM_FRAMING,
    ("POST", "/api/v1/admin/templates"): MAX_TEMPLATE_BYTES + FORM_FRAMING,
    LOGIN: LOGIN_BYTES,
}


def body_limit(method: str, path: str, settings: ServiceSettings) -> tuple[int, ServiceError]:
    """The most bytes a body of this route may hold, and the refusal beyond it (``path`` as declared)."""
    limit = OWN_LIMITS.get((method, path), settings.max_json_bytes)
    if limit == UPLOAD:
        uploads = settings.max_upload_bytes
        # A multipart upload's form fields come on top of the file (a tus PATCH is the bytes alone).
        return uploads + (FORM_ALLOWANCE if method == "POST" else 0), too_large(uploads)
    return limit, ServiceError(413, "too_large", f"送信データが大きすぎます(上限 {_size(limit)})。")


def _size(limit: int) -> str:
    if limit >= 1024**2:
        return f"{limit / 1024**2:.0f} MB"
    return f"{max(1, limit // 1024)} KB"


class BodyGuard:
    """The middleware (``app.add_middleware(BodyGuard)``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await _answer(NUL_REFUSAL, scope, receive, send)
            return
        if not _has_body(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        settings = _settings(scope)
        method, path = scope["method"], _declared_path(scope)
        limit, refusal = body_limit(method, path, settings)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(refusal, scope, receive, send)
            return
        if (method, path) != LOGIN:
            problem = await anyio.to_thread.run_sync(_credentials_problem, scope)
            if problem is not None:
                await _answer(problem, scope, receive, send)
                return
        await self._counted(scope, receive, send, limit, refusal)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int, refusal: ServiceError) -> None:
        received, exceeded, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                exceeded = True
                raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:  # the app's answer to the cut body is replaced by the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _answer(refusal, scope, receive, send)


# A NUL character in a parameter is no text anyone types, and PostgreSQL refuses it in any query (a 500).
NUL_REFUSAL = ServiceError(422, "invalid", "入力内容に誤りがあります。使えない文字 (NUL) が含まれています。")


def _has_nul(scope: Scope) -> bool:
    query = bytes(scope.get("query_string", b"")).lower()
    return b"%00" in query or b"\0" in query or "\0" in str(scope.get("path", ""))


class _TooLarge(Exception):
    """Raised into the app's body reading: the rest of the body is not read."""


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0").strip() not in ("", "0") or "transfer-encoding" in headers


def _settings(scope: Scope) -> ServiceSettings:
    """The app's settings (``create_app``), or else the process's, read per request."""
    pinned: ServiceSettings | None = getattr(scope["app"].state, "settings", None)
    return pinned if pinned is not None else get_settings()


def _declared_path(scope: Scope) -> str:
    """The declared path of a route with its own limit (``/api/v1/recordings/{recording_id}/minutes``),
    else the raw path. Matched here, not by the router: the guard runs before routing."""
    path = str(scope["path"])
    for template, pattern in _TEMPLATES:
        if pattern.fullmatch(path):
            return template
    return path


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


_TEMPLATES = [(path, _pattern(path)) for path in sorted({path for _method, path in OWN_LIMITS})]


def _credentials_problem(scope: Scope) -> ServiceError | None:
    """Why this request may not send a body (None: it may), with the routes' own checks and answers."""
    from api.auth import current_caller, current_device  # the routes' checks, not a copy

    request = Request(scope)  # headers, cookies and client only: the body is not touched
    check: Callable[[Request, Session], object]
    check = current_device if scope["path"].startswith(UPLOADS) else current_caller
    try:
        with Session(get_engine()) as db:
            check(request, db)
    except ServiceError as error:
        headers = dict(error.headers or {})
        if scope["path"].startswith(UPLOADS):
            headers.setdefault("Tus-Resumable", "1.0.0")
        return ServiceError(error.status, error.code, error.message, headers)
    return None


async def _answer(error: ServiceError, scope: Scope, receive: Receive, send: Send) -> None:
    """The refusal, on a connection that then closes (the unread body is not waited for)."""
    headers = {**(error.headers or {}), "Connection": "close"}
    response = JSONResponse({"detail": error.message, "code": error.code}, status_code=error.status, headers=headers)
    await response(scope, receive, send)

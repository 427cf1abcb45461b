"""The clerks' pages, mounted on the API application.

Each page is an HTML shell (Jinja2) plus a vanilla ES module in ``web/static/js`` that talks to the
REST API under ``/api/v1`` with the browser's session cookie and the CSRF double-submit header.
Pages check the session on the server first, so a signed-out visitor is sent to the login page
before any script runs. Dependencies point one way: web imports api, never the reverse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select
from starlette.types import Scope

from api.auth import current_caller
from service.access import Caller, visible_recording
from service.db import session_scope
from service.errors import ServiceError
from service.minutes import HEADER_FIELDS
from service.models import Department, Device, Role, User
from service.settings import get_settings
from service.storage import AUDIO_SUFFIXES

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

KIND_LABELS = {"meeting": "会議", "interview": "面談", "negotiation": "交渉", "phone": "電話"}
ROLE_LABELS = {"clerk": "職員", "manager": "管理職", "admin": "管理者"}

# Pages load only their own scripts, styles, audio and API answers: no inline script, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

DbSession = Annotated[Session, Depends(session_scope)]
router = APIRouter(include_in_schema=False)


class Assets(StaticFiles):
    """Static files the browser revalidates on every load (ETag → 304), so an update shows at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


def _caller(request: Request, db: Session) -> Caller | None:
    try:
        return current_caller(request, db)
    except ServiceError:
        return None


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no other host, no ``//evil``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/api/"):
        return "/"
    return target


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303, headers=PAGE_HEADERS)


def _page(request: Request, template: str, caller: Caller | None, db: Session, **context: Any) -> HTMLResponse:
    user: dict[str, Any] | None = None
    if caller is not None:
        department = db.get(Department, caller.user.department_id)
        user = {
            "id": caller.user_id,
            "name": caller.user.display_name or caller.user.name,
            "role": caller.role.value,
            "role_label": ROLE_LABELS.get(caller.role.value, caller.role.value),
            "department": department.name if department else "",
            "manager": caller.role in (Role.manager, Role.admin),
        }
    response = templates.TemplateResponse(request, template, {"user": user, **context}, headers=PAGE_HEADERS)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, db: DbSession, next: str | None = None) -> Response:
    target = _safe_next(next)
    if _caller(request, db) is not None:
        return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    return _page(request, "login.html", None, db, next=target, page="login")


@router.get("/", response_class=HTMLResponse)
def list_page(request: Request, db: DbSession) -> Response:
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    return _page(request, "list.html", caller, db, page="list", kinds=KIND_LABELS)


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, db: DbSession) -> Response:
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    settings = get_settings()
    return _page(
        request,
        "upload.html",
        caller,
        db,
        page="upload",
        kinds=KIND_LABELS,
        suffixes=sorted(AUDIO_SUFFIXES),
        max_bytes=settings.max_upload_bytes,
    )


def _recording_page(recording_id: int, request: Request, db: DbSession, template: str, page: str) -> Response:
    """A page about one recording: the caller's department's (or any, for admins), else 404."""
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    try:
        recording = visible_recording(db, caller, recording_id)
    except ServiceError:
        response = _page(request, "not_found.html", caller, db, page="")
        response.status_code = 404
        return response
    return _page(
        request,
        template,
        caller,
        db,
        page=page,
        recording=recording,
        kind_label=KIND_LABELS.get(recording.kind, recording.kind),
        header_fields=HEADER_FIELDS.get(recording.kind, HEADER_FIELDS["meeting"]),
    )


@router.get("/recordings/{recording_id}", response_class=HTMLResponse)
def editor_page(recording_id: int, request: Request, db: DbSession) -> Response:
    return _recording_page(recording_id, request, db, "editor.html", "editor")


@router.get("/recordings/{recording_id}/publication", response_class=HTMLResponse)
def publication_page(recording_id: int, request: Request, db: DbSession) -> Response:
    """公開用: the same access rule as the editor."""
    return _recording_page(recording_id, request, db, "publication.html", "publication")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, db: DbSession, q: str = "") -> Response:
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    # The query is put in the box on the server too, so the page shows what was asked before scripts run.
    return _page(request, "search.html", caller, db, page="search", query=q[:200])


@router.get("/dictionaries", response_class=HTMLResponse)
def dictionaries_page(request: Request, db: DbSession) -> Response:
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    return _page(request, "dictionaries.html", caller, db, page="dictionaries")


@router.get("/usage", response_class=HTMLResponse)
def usage_page(request: Request, db: DbSession) -> Response:
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    if caller.role not in (Role.manager, Role.admin):
        response = _page(request, "usage.html", caller, db, page="usage", forbidden=True)
        response.status_code = 403
        return response
    return _page(request, "usage.html", caller, db, page="usage")


@router.get("/web/people")
def people(request: Request, db: DbSession) -> Response:
    """Names to show for ids in the pages (who uploaded, who saved a revision, which device).

    The caller's department (admins: everyone); names only, nothing else about the accounts.
    """
    caller = _caller(request, db)
    if caller is None:
        return JSONResponse({"detail": "ログインしてください。", "code": "unauthenticated"}, status_code=401)
    users = select(User)
    devices = select(Device)
    if caller.role != Role.admin:
        users = users.where(User.department_id == caller.user.department_id)
        devices = devices.where(Device.department_id == caller.user.department_id)
    body = {
        "users": {str(u.id): u.display_name or u.name for u in db.exec(users.order_by(col(User.id))).all()},
        "devices": {str(d.id): d.name for d in db.exec(devices.order_by(col(Device.id))).all()},
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def mount(app: FastAPI) -> None:
    """Add the page routes and static assets to ``app``."""
    app.mount("/static", Assets(directory=STATIC), name="static")
    app.include_router(router)

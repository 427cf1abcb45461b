"""Serves the clerks' pages (``web.pages``) and their static assets.

Pages check the session on the server first, so a signed-out visitor is sent to the login page
before any script runs.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.types import Scope

from api import page_errors
from api.auth import DbSession
from api.page_base import page as render_page
from api.page_base import page_caller, to_login
from service.access import visible_recording
from service.errors import ServiceError
from service.models import KIND_LABELS, Role
from service.records.fields import upload_specs
from service.settings import get_settings
from service.storage import AUDIO_SUFFIXES
from web.pages import PAGE_HEADERS, STATIC, people, recording_context, safe_next

router = APIRouter(include_in_schema=False)
RECORD_GONE = "削除されたか、表示する権限がありません。"


class Assets(StaticFiles):
    """Static files the browser revalidates on every load (ETag → 304), so an update shows at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, db: DbSession, next: str | None = None) -> Response:
    target = safe_next(next)
    if page_caller(request, db) is not None:
        return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    return render_page("login.html", None, db, next=target, page="login")


@router.get("/", response_class=HTMLResponse)
def list_page(request: Request, db: DbSession) -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    return render_page("list.html", caller, db, page="list", kinds=KIND_LABELS)


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, db: DbSession) -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    return render_page(
        "upload.html",
        caller,
        db,
        page="upload",
        kinds=KIND_LABELS,
        suffixes=sorted(AUDIO_SUFFIXES),
        max_bytes=get_settings().max_upload_bytes,
        record_fields=upload_specs(),
    )


def _recording_page(recording_id: int, request: Request, db: Session, template: str, page: str) -> Response:
    """A page about one recording: the caller's department's (or any, for admins), else 404."""
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    try:
        recording = visible_recording(db, caller, recording_id)
    except ServiceError:
        return page_errors.error_page(404, caller, db, heading="記録が見つかりません", message=RECORD_GONE)
    return render_page(template, caller, db, page=page, **recording_context(recording))


@router.get("/recordings/{recording_id}", response_class=HTMLResponse)
def editor_page(recording_id: int, request: Request, db: DbSession) -> Response:
    return _recording_page(recording_id, request, db, "editor.html", "editor")


@router.get("/recordings/{recording_id}/publication", response_class=HTMLResponse)
def publication_page(recording_id: int, request: Request, db: DbSession) -> Response:
    """公開用: the same access rule as the editor."""
    return _recording_page(recording_id, request, db, "publication.html", "publication")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, db: DbSession, q: str = "") -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    # The query is put in the box on the server too, so the page shows what was asked before scripts run.
    return render_page("search.html", caller, db, page="search", query=q[:200])


@router.get("/dictionaries", response_class=HTMLResponse)
def dictionaries_page(request: Request, db: DbSession) -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    return render_page("dictionaries.html", caller, db, page="dictionaries")


@router.get("/usage", response_class=HTMLResponse)
def usage_page(request: Request, db: DbSession) -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    if caller.role not in (Role.manager, Role.admin):
        return render_page("usage.html", caller, db, status=403, page="usage", forbidden=True)
    return render_page("usage.html", caller, db, page="usage")


@router.get("/web/people")
def people_names(request: Request, db: DbSession) -> Response:
    """Names for the ids the pages show (see ``web.pages.people``)."""
    caller = page_caller(request, db)
    if caller is None:
        return JSONResponse({"detail": "ログインしてください。", "code": "unauthenticated"}, status_code=401)
    return JSONResponse(people(db, caller), headers={"Cache-Control": "no-store"})


def mount(app: FastAPI) -> None:
    """Add the page routes and static assets to ``app``."""
    from api.routes import admin_pages

    app.mount("/static", Assets(directory=STATIC), name="static")
    app.include_router(router)
    page_errors.install(app)  # unknown pages: the Japanese 404 page, not JSON
    app.include_router(admin_pages.router)

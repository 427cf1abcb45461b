"""Serves the administrator's console (管理) under /admin, and everyone's password page.

The pages are shells (``web/templates/admin.html``) whose script talks to ``/api/v1/admin``; a
signed-in clerk or manager gets a 403 page, a signed-out visitor the login page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.routes.pages import DbSession, _caller, _page, _to_login
from service.models import Role
from web.admin import ADMIN_SECTIONS, TEMPLATES_LINK

router = APIRouter(include_in_schema=False)


def _admin_page(section: str, request: Request, db: DbSession) -> Response:
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    if caller.role != Role.admin:
        return _page("admin_forbidden.html", caller, db, status=403, page="admin")
    return _page(
        "admin.html", caller, db, page="admin", section=section, sections=ADMIN_SECTIONS, templates_link=TEMPLATES_LINK
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, db: DbSession) -> Response:
    return _admin_page("", request, db)


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, db: DbSession) -> Response:
    return _admin_page("users", request, db)


@router.get("/admin/departments", response_class=HTMLResponse)
def admin_departments(request: Request, db: DbSession) -> Response:
    return _admin_page("departments", request, db)


@router.get("/admin/devices", response_class=HTMLResponse)
def admin_devices(request: Request, db: DbSession) -> Response:
    return _admin_page("devices", request, db)


@router.get("/admin/tokens", response_class=HTMLResponse)
def admin_tokens(request: Request, db: DbSession) -> Response:
    return _admin_page("tokens", request, db)


@router.get("/admin/retention", response_class=HTMLResponse)
def admin_retention(request: Request, db: DbSession) -> Response:
    return _admin_page("retention", request, db)


@router.get("/admin/voices", response_class=HTMLResponse)
def admin_voices(request: Request, db: DbSession) -> Response:
    return _admin_page("voices", request, db)


@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(request: Request, db: DbSession) -> Response:
    return _admin_page("audit", request, db)


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, db: DbSession) -> Response:
    """Everyone's own password (the API asks for the current one)."""
    caller = _caller(request, db)
    if caller is None:
        return _to_login(request)
    return _page("password.html", caller, db, page="password")

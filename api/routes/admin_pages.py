"""Serves the administrator's console (管理) under /admin, and everyone's password page.

The pages are shells (``web/templates/admin.html``) whose script talks to ``/api/v1/admin``; a
signed-in clerk or manager gets a 403 page, a signed-out visitor the login page.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.auth import DbSession
from api.page_base import page as render_page
from api.page_base import page_caller, to_login
from service.models import Role
from web.admin import ADMIN_SECTIONS, TEMPLATES_LINK

router = APIRouter(include_in_schema=False)


def _admin_page(section: str, request: Request, db: DbSession) -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    if caller.role != Role.admin:
        return render_page("admin_forbidden.html", caller, db, status=403, page="admin")
    return render_page(
        "admin.html", caller, db, page="admin", section=section, sections=ADMIN_SECTIONS, templates_link=TEMPLATES_LINK
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, db: DbSession) -> Response:
    return _admin_page("", request, db)


def _section_route(section: str) -> Callable[[Request, Session], Response]:
    def section_page(request: Request, db: DbSession) -> Response:
        return _admin_page(section, request, db)

    return section_page


# One page per section of the console (/admin/users, /admin/devices, …), all the same shell.
for _section in ADMIN_SECTIONS:
    router.add_api_route(
        f"/admin/{_section.key}", _section_route(_section.key), methods=["GET"], response_class=HTMLResponse
    )


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, db: DbSession) -> Response:
    """Everyone's own password (the API asks for the current one)."""
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    return render_page("password.html", caller, db, page="password")

"""What every page route needs: who is asking (or nobody), the way to the login page, and the
rendered page with the pages' security headers. Shared by the clerks' pages, the administrator's
console and the templates page, so none of them imports another."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from api.auth import current_caller
from service.access import Caller
from service.errors import ServiceError
from web.pages import PAGE_HEADERS, render


def page_caller(request: Request, db: Session) -> Caller | None:
    """The signed-in caller, or None (a page then sends the visitor to log in)."""
    try:
        return current_caller(request, db)
    except ServiceError:
        return None


def to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303, headers=PAGE_HEADERS)


def page(template: str, caller: Caller | None, db: Session, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, caller, db, **context), status_code=status, headers=PAGE_HEADERS)

"""Refused page requests answer a Japanese HTML page (404, 403); the API keeps its JSON answers.

A mistyped address such as ``/users`` used to show ``{"detail":"Not Found"}`` in the browser.
``error_page`` is also what a page route returns when the record is missing or the caller may
not see the page (``web.pages.render_error_page`` renders it).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.exceptions import HTTPException

from api.auth import current_caller
from service.access import Caller
from service.db import get_engine
from service.errors import ServiceError
from web.pages import PAGE_HEADERS, render_error_page

# Paths that are not pages: their errors stay as the API (or the file server) answers them.
NOT_PAGES = ("/api/", "/static/", "/static-offline-docs/", "/healthz", "/readyz", "/metrics", "/openapi.json")


def error_page(
    status: int, caller: Caller | None, db: Session, *, heading: str | None = None, message: str | None = None
) -> HTMLResponse:
    html = render_error_page(status, caller, db, heading=heading, message=message)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _is_page(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and not request.url.path.startswith(NOT_PAGES)


async def _page_or_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code not in (403, 404) or not _is_page(request):
        return await http_exception_handler(request, error)
    return await run_in_threadpool(_page_for, request, error.status_code)


def _page_for(request: Request, status: int) -> HTMLResponse:
    with Session(get_engine()) as db:
        try:
            caller: Caller | None = current_caller(request, db)
        except ServiceError:
            caller = None
        return error_page(status, caller, db)


def install(app: FastAPI) -> None:
    """Answer unknown pages (and pages refused with 403/404) with the HTML pages."""
    app.add_exception_handler(HTTPException, _page_or_api_error)

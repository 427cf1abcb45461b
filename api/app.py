"""The FastAPI application: the REST API under /api/v1, health and metrics, and the web pages."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from api.errors import handle_service_error
from api.guard import BodyGuard
from api.response_headers import ResponseHeaders
from api.routes import (
    admin,
    auth,
    dashboard,
    devices,
    dictionaries,
    health,
    presence,
    publication,
    record_templates,
    recordings,
    search,
    term_proposals,
    uploads,
    usage,
    voices,
)
from service.errors import ServiceError
from service.settings import ServiceSettings, get_settings

log = logging.getLogger(__name__)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()]
    # Where and what only: the input is not echoed (it may be huge, or NaN, which JSON cannot carry).
    errors = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()]
    return JSONResponse(
        {"detail": "入力内容に誤りがあります。" + " / ".join(problems), "code": "invalid", "errors": errors},
        status_code=422,
    )


def _warm_up_personal_data() -> threading.Thread:
    """Load GiNZA (10–18 s) on a daemon thread, so the first 公開用 copy does not wait for it.

    Startup never waits for it, and a missing model is logged, not raised: the publication page then
    says detection is unavailable, as it does without the warm-up.
    """

    def load() -> None:
        from service.personal_data import nlp

        try:
            nlp.pipeline()
        except nlp.NlpUnavailable as error:
            log.warning("personal-data detection will not be available: %s", error)
        except Exception:  # a broken install must not take the API down; the first detection reports it
            log.exception("loading GiNZA in the background failed")
        else:
            log.info("GiNZA loaded for personal-data detection")

    thread = threading.Thread(target=load, name="kiroku-ginza-warm-up", daemon=True)
    thread.start()
    return thread


def create_app(upkeep: bool = False, settings: ServiceSettings | None = None, warm_up: bool = False) -> FastAPI:
    """``upkeep``: also run the maintenance loop (stale jobs, retention) in this process.

    ``warm_up``: load GiNZA for personal-data detection in the background once the app starts
    (``kiroku serve``; the worker and ``kiroku transcribe`` never load it).

    ``settings``: the entry point's, kept on ``app.state.settings``; None: the process's
    ``get_settings()``, looked up per request where a request reads them (tests change the
    environment between requests and clear that cache).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = None
        if upkeep:
            from service.maintenance import start_upkeep

            stop = start_upkeep(settings or get_settings())
        if warm_up:
            _warm_up_personal_data()
        yield
        if stop is not None:
            stop.set()

    # /docs and /redoc with their scripts served from the package, not a CDN (closed networks).
    app = FastAPIOffline(
        title="kiroku API",
        description="音声から議事録を作る kiroku の REST API。",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_exception_handler(ServiceError, handle_service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Credentials and size of a body are checked before it is read (inside the request counter).
    app.add_middleware(BodyGuard)
    app.add_middleware(ResponseHeaders)  # outermost: it sees the guard's refusals too

    for module in (
        auth,
        recordings,
        usage,
        dashboard,
        admin,
        dictionaries,
        publication,
        presence,
        term_proposals,
        search,
        uploads,
        devices,
        health,
        record_templates,
        voices,
    ):
        app.include_router(module.router)
    app.include_router(record_templates.pages)  # /admin/templates (the page; its API is above)
    return app

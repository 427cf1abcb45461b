"""The served application: the API with the web pages mounted on it (api serves web; web knows only the domain)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from service.settings import ServiceSettings


def build_app(upkeep: bool = False, settings: ServiceSettings | None = None, warm_up: bool = False) -> FastAPI:
    """``settings``: the entry point's (``kiroku serve``); None: the process's ``get_settings()``.
    ``warm_up``: see ``api.app.create_app``."""
    from api.app import create_app
    from api.routes.pages import mount

    app = create_app(upkeep=upkeep, settings=settings, warm_up=warm_up)
    mount(app)
    return app

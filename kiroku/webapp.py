"""The served application: the API with the web pages mounted on it (api serves web; web knows only the domain)."""

from __future__ import annotations

from fastapi import FastAPI


def build_app(upkeep: bool = False) -> FastAPI:
    from api.app import create_app
    from api.routes.pages import mount

    app = create_app(upkeep=upkeep)
    mount(app)
    return app

"""The served application: the API with the web pages mounted on it (web → api, never the reverse)."""

from __future__ import annotations

from fastapi import FastAPI


def build_app(upkeep: bool = False) -> FastAPI:
    from api.app import create_app
    from web.pages import mount

    app = create_app(upkeep=upkeep)
    mount(app)
    return app

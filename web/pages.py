"""The clerks' pages, mounted on the API application."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the page routes and static assets to ``app``."""

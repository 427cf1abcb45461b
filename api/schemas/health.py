"""Answers of the liveness and readiness checks (``api.routes.health``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Alive(BaseModel):
    status: str = Field(description="ok")


class Readiness(BaseModel):
    """The same body with 503 when a check fails: each check is "ok" or the error's class name."""

    status: str = Field(description="ok | unavailable")
    database: str
    broker: str

"""Answers of the editor's presence heartbeat (``api.routes.presence``, ``service.presence``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Heartbeat(BaseModel):
    tab: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="the editor tab's own id")


class PresentOut(BaseModel):
    """Someone else with the recording open in an editor."""

    name: str
    same_user: bool = Field(description="the caller themself, in another tab or browser")


class PresenceOut(BaseModel):
    others: list[PresentOut]
    heartbeat_seconds: int = Field(description="send the next heartbeat after this many seconds")

"""Answers of what the editor shows beside the text: the presence heartbeat (``service.presence``)
and the audio's peaks for the overview strip (``service.peaks``); routes in ``api.routes.presence``."""

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


class PeaksOut(BaseModel):
    """The recording's loudness in equal stretches, for the editor's overview strip."""

    peaks: list[float] = Field(description="the loudest sample of each stretch, 0 … 1")

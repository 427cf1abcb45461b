"""Answers of the device upload routes (``api.routes.uploads``) that are JSON (the tus ones are headers)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeviceRecordingOut(BaseModel):
    """A recording a device uploaded, found by the device's own id for it."""

    id: int
    device_recording_id: str
    created_at: datetime
    deleted: bool  # deleted on request: the device may forget it
    status: str | None = Field(description="queued | running | succeeded | failed | canceled; null: no job")
    stage: str
    progress: float
    error: str

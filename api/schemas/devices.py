"""Answers of the device routes (``api.routes.devices``): what a meeting-room agent is told."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class HeartbeatIn(BaseModel):
    """The agent's report on itself (``kiroku device watch``)."""

    agent_version: str = Field(min_length=1, max_length=50, description="エージェントの版")
    queue_length: int = Field(ge=0, le=10_000_000, description="未送信の録音の数")
    free_disk_bytes: int | None = Field(default=None, ge=0, le=2**63 - 1, description="空きディスク (バイト)")


class HeartbeatOut(BaseModel):
    device_id: int
    name: str  # the room, so the agent's log says which device its key is
    heartbeat_at: datetime

"""Answers of the administration routes (``api.routes.admin``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DepartmentOut(BaseModel):
    id: int
    name: str


class UserOut(BaseModel):
    id: int
    name: str
    display_name: str
    role: str
    department_id: int
    active: bool


class CreatedUser(BaseModel):
    id: int
    name: str
    role: str
    department_id: int


class Deactivated(BaseModel):
    """A user deactivated, or a device's key revoked."""

    id: int
    active: bool


class DeviceOut(BaseModel):
    id: int
    name: str
    department_id: int
    active: bool
    last_seen_at: datetime | None


class CreatedDevice(BaseModel):
    id: int
    name: str
    department_id: int
    key: str  # shown this once only: only its hash is stored

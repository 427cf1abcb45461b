"""Answers of the administration routes (``api.routes.admin``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DepartmentOut(BaseModel):
    id: int
    name: str
    monthly_cap_hours: float | None = None
    retired_at: datetime | None = None
    users: int = 0  # active users
    devices: int = 0  # active devices


class UserOut(BaseModel):
    id: int
    name: str
    display_name: str
    role: str
    department_id: int
    department: str = ""
    active: bool
    created_at: datetime | None = None


class CreatedUser(BaseModel):
    id: int
    name: str
    role: str
    department_id: int
    password: str | None = None  # the generated one-time password, shown this once (None: the admin chose it)


class NewPassword(BaseModel):
    """A password reset: the generated one-time password, shown this once."""

    id: int
    password: str


class Deactivated(BaseModel):
    """A user deactivated or reactivated, a device's key or a token revoked."""

    id: int
    active: bool


class DeviceOut(BaseModel):
    id: int
    name: str
    department_id: int
    department: str = ""
    active: bool
    created_at: datetime | None = None
    last_seen_at: datetime | None
    uploads: int = 0  # recordings this device has sent
    # Reported by the device agent's heartbeat, where the service receives one.
    agent_version: str | None = None
    queue_length: int | None = None
    free_disk_bytes: int | None = None
    heartbeat_at: datetime | None = None  # the agent's last heartbeat (None: no agent on this device)
    silence_alerted_at: datetime | None = None  # set: silent for a day, admins alerted (until it beats again)


class CreatedDevice(BaseModel):
    id: int
    name: str
    department_id: int
    key: str  # shown this once only: only its hash is stored


class TokenOut(BaseModel):
    id: int
    owner: str  # the login name the token acts as
    label: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked: bool
    usable: bool  # neither revoked nor expired


class CreatedToken(BaseModel):
    owner: str
    token: str  # shown this once only: only its hash is stored
    expires_at: datetime | None


class RetentionOut(BaseModel):
    """How long things are kept (read-only: set through the service's settings)."""

    retention_days: int
    abandoned_upload_days: float
    session_hours: float
    api_token_days: float
    login_max_failures: int
    login_window_minutes: float


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    action: str
    user: str
    device: str
    recording_id: int | None
    detail: str
    ip: str


class AuditPage(BaseModel):
    total: int
    items: list[AuditEventOut]
    actions: list[str]  # every action on record, for the filter

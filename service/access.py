"""Who may see which recording, and the audit trail of every access to one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from service.errors import not_found
from service.models import AuditEvent, Device, Recording, Role, User


@dataclass(frozen=True)
class Caller:
    """A signed-in user, and how they signed in (session | token)."""

    user: User
    via: str

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id


def can_see(caller: Caller, recording: Recording) -> bool:
    """Clerks and managers: their own department. Admins: every department (for deletion on request)."""
    if recording.deleted_at is not None:
        return False
    return caller.role == Role.admin or recording.department_id == caller.user.department_id


# Ids are 32-bit integers in PostgreSQL; a larger one (a guess, a typo) is simply not found.
MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    """Whether ``value`` can name a row: the database would refuse to compare any other (a 500)."""
    return 0 < value <= MAX_ID


def visible_recording(db: Session, caller: Caller, recording_id: int) -> Recording:
    if not valid_id(recording_id):
        raise not_found()
    recording = db.get(Recording, recording_id)
    if recording is None or not can_see(caller, recording):
        raise not_found()
    return recording


def audit(
    db: Session,
    action: str,
    *,
    caller: Caller | None = None,
    device: Device | None = None,
    recording_id: int | None = None,
    detail: str = "",
    ip: str = "",
    commit: bool = True,
) -> None:
    """Record one event. Detail holds ids and formats, never transcript text."""
    db.add(
        AuditEvent(
            user_id=caller.user_id if caller else None,
            device_id=device.id if device else None,
            action=action,
            recording_id=recording_id,
            detail=detail[:2000],
            ip=ip,
        )
    )
    if commit:
        db.commit()

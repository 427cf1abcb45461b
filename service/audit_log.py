"""Reading the audit trail: filtered pages for the admin console, and a CSV export safe to open in Excel."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from service.models import AuditEvent, Device, User
from service.spreadsheet_safety import safe_cell

MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    action: str = ""  # an exact action, or a prefix ending in "." (e.g. "admin.")
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    user: str  # the login name ("" for a device or the system)
    device: str


def _conditions(wanted: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.user_id is not None:
        found.append(col(AuditEvent.user_id) == wanted.user_id)
    if wanted.action.endswith("."):
        found.append(col(AuditEvent.action).startswith(wanted.action, autoescape=True))
    elif wanted.action:
        found.append(col(AuditEvent.action) == wanted.action)
    if wanted.since is not None:
        found.append(col(AuditEvent.at) >= wanted.since)
    if wanted.until is not None:
        found.append(col(AuditEvent.at) < wanted.until)
    return found


def find_events(db: Session, wanted: AuditFilter, limit: int = 100, offset: int = 0) -> tuple[int, list[AuditRow]]:
    """The newest events first, and how many match in all."""
    where = _conditions(wanted)
    total = int(db.exec(select(func.count()).select_from(AuditEvent).where(*where)).one())
    listed = select(AuditEvent).where(*where).order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)
    return total, _named(db, list(db.exec(listed).all()))


def _named(db: Session, events: list[AuditEvent]) -> list[AuditRow]:
    user_ids = {e.user_id for e in events if e.user_id is not None}
    device_ids = {e.device_id for e in events if e.device_id is not None}
    users = {u.id: u.name for u in db.exec(select(User).where(col(User.id).in_(user_ids))).all()}
    devices = {d.id: d.name for d in db.exec(select(Device).where(col(Device.id).in_(device_ids))).all()}
    return [AuditRow(e, users.get(e.user_id, ""), devices.get(e.device_id, "")) for e in events]


def actions(db: Session) -> list[str]:
    """The actions on record, for the console's filter."""
    return [str(a) for a in db.exec(select(AuditEvent.action).distinct().order_by(col(AuditEvent.action))).all()]


CSV_HEADER = ["日時 (UTC)", "操作", "利用者", "機器", "録音ID", "詳細", "IPアドレス"]


def events_csv(db: Session, wanted: AuditFilter) -> bytes:
    """The matching events as UTF-8 CSV with a BOM (Excel reads it as UTF-8), every cell formula-safe."""
    _total, rows = find_events(db, wanted, limit=MAX_EXPORT_ROWS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        event = row.event
        cells = [event.at.isoformat(), event.action, row.user, row.device, event.recording_id, event.detail, event.ip]
        writer.writerow([safe_cell(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")

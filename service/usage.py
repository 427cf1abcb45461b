"""The usage ledger: one record per succeeded recording, summed by month and fiscal year (Asia/Tokyo)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from service.clock import TOKYO
from service.errors import ServiceError
from service.models import Department, Recording, UsageRecord, utcnow
from service.settings import get_settings


def tokyo_time(moment_utc: datetime) -> datetime:
    aware = moment_utc if moment_utc.tzinfo else moment_utc.replace(tzinfo=UTC)
    return aware.astimezone(TOKYO)


def tokyo_month(moment_utc: datetime) -> str:
    return tokyo_time(moment_utc).strftime("%Y-%m")


def fiscal_year(moment_utc: datetime) -> int:
    """Japanese fiscal year: April to March, named by the year it starts in."""
    local = tokyo_time(moment_utc)
    return local.year if local.month >= 4 else local.year - 1


# Years a calendar sum can be asked for (year 0000 is no date; 9999-12 has no month after it).
MONTH = re.compile(r"(19|20|21)\d\d-(0[1-9]|1[0-2])")


def checked_month(value: str | None, name: str = "month") -> str:
    """A ``YYYY-MM`` parameter named ``name`` (422 otherwise); None is this month in Japan."""
    if value is None:
        return tokyo_month(utcnow())
    if not MONTH.fullmatch(value):
        raise ServiceError(422, name, f"{name} は YYYY-MM の形式(1900〜2199 年)で指定してください。")
    return value


def fiscal_months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(4, 13)] + [f"{year + 1}-{m:02d}" for m in range(1, 4)]


def new_usage_record(
    recording: Recording, model: str, processing_seconds: float, at: datetime | None = None
) -> UsageRecord:
    assert recording.id is not None
    moment = at or utcnow()
    return UsageRecord(
        recording_id=recording.id,
        department_id=recording.department_id,
        source=recording.source,
        kind=recording.kind,
        model=model,
        audio_seconds=recording.duration_seconds,
        processing_seconds=processing_seconds,
        recorded_at=moment,
        month=tokyo_month(moment),
        day=tokyo_time(moment).date(),
        fiscal_year=fiscal_year(moment),
    )


def has_usage(db: Session, recording_id: int) -> bool:
    return db.exec(select(UsageRecord.id).where(UsageRecord.recording_id == recording_id)).first() is not None


def add_usage_once(db: Session, record: UsageRecord) -> bool:
    """Insert unless the recording already counts (the unique key is the final guard)."""
    if has_usage(db, record.recording_id):  # equivalent mutants (1): None: the unique key refuses it the same
        return False
    try:
        with db.begin_nested():
            db.add(record)
        return True
    except IntegrityError:
        return False


def _hours(seconds: float) -> float:
    return round(seconds / 3600.0, 3)


def summarize(db: Session, *, target_hours_per_month: float, month: str | None, year: int | None) -> dict[str, Any]:
    """Used hours against the target, with breakdowns by department, source, kind (and month for a year)."""
    query = select(UsageRecord)
    if month is not None:
        query = query.where(UsageRecord.month == month)
        target = target_hours_per_month
    else:
        assert year is not None
        query = query.where(UsageRecord.fiscal_year == year)
        target = target_hours_per_month * 12
    records = db.exec(query).all()
    names = {d.id: d.name for d in db.exec(select(Department)).all()}
    groups: dict[str, dict[Any, list[float]]] = {
        k: defaultdict(lambda: [0.0, 0.0]) for k in ("dep", "src", "kind", "m")
    }
    total = 0.0
    for r in records:
        total += r.audio_seconds
        for key, value in (("dep", r.department_id), ("src", r.source), ("kind", r.kind), ("m", r.month)):
            groups[key][value][0] += r.audio_seconds
            groups[key][value][1] += 1

    def rows(key: str, field: str) -> list[dict[str, Any]]:
        return [
            {field: k, "hours": _hours(v[0]), "recordings": int(v[1])}
            for k, v in sorted(groups[key].items(), key=lambda kv: (-kv[1][0], str(kv[0])))
        ]

    by_department = [
        # equivalent mutants (3): departments are retired, never deleted (foreign key): every id has a name
        {"department_id": k, "department": names.get(k, str(k)), "hours": _hours(v[0]), "recordings": int(v[1])}
        for k, v in sorted(groups["dep"].items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    result: dict[str, Any] = {
        "period": {"month": month} if month else {"fiscal_year": year},
        "target_hours": target,
        "used_hours": _hours(total),
        "ratio": round(total / 3600.0 / target, 4) if target else None,
        "recordings": len(records),
        "by_department": by_department,
        "by_source": rows("src", "source"),
        "by_kind": rows("kind", "kind"),
    }
    if year is not None:
        result["by_month"] = [
            # equivalent mutants (1): `or True`: a defaultdict reads a month without records as 0 s
            {"month": m, "hours": _hours(groups["m"][m][0]) if m in groups["m"] else 0.0}
            for m in fiscal_months(year)
        ]
    return result


def usage_report(db: Session, *, month: str | None, fiscal_year: int | None) -> dict[str, Any]:
    """``summarize`` for one month or one fiscal year (neither: this month), against the settings' target."""
    if month is not None and fiscal_year is not None:
        raise ServiceError(422, "period", "month と fiscal_year はどちらか一方を指定してください。")
    if fiscal_year is None:
        month = checked_month(month)
    return summarize(db, target_hours_per_month=get_settings().usage_target_hours, month=month, year=fiscal_year)


def month_seconds(db: Session, month: str) -> float:
    """Audio seconds transcribed in ``month`` (YYYY-MM, Asia/Tokyo)."""
    total = db.exec(
        select(func.coalesce(func.sum(UsageRecord.audio_seconds), 0.0)).where(UsageRecord.month == month)
    ).one()
    return float(total)

"""The managers' dashboard: a month against the target, its days, breakdowns, trend, fiscal year,
caps and the edit-rate quality figure. Every figure is a SQL aggregate (200,000 records stay fast).

Months, days and fiscal years are Asia/Tokyo; a month with no usage is a row of zeros, not a gap.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from service.models import Department, Recording, TranscriptRecord, UsageRecord
from service.usage import fiscal_months, tokyo_time

HOURS = 3600.0


def _h(seconds: float | None) -> float:
    return round((seconds or 0.0) / HOURS, 3)


def month_start(month: str) -> date:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1)


def days_in(month: str) -> int:
    first = month_start(month)
    return calendar.monthrange(first.year, first.month)[1]


def shift_month(month: str, delta: int) -> str:
    first = month_start(month)
    index = first.year * 12 + first.month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def fiscal_year_of(month: str) -> int:
    first = month_start(month)
    return first.year if first.month >= 4 else first.year - 1


def era_label(fiscal_year: int) -> str:
    """令和7年度 for 2025; 令和元年度 for 2019; 平成 before."""
    if fiscal_year >= 2019:
        number = fiscal_year - 2018
        return f"令和{'元' if number == 1 else number}年度"
    return f"平成{fiscal_year - 1988}年度"


def elapsed_days(month: str, now_utc: datetime) -> float:
    """Days of ``month`` gone by at ``now`` (fractional; 0 for a future month, all for a past one)."""
    now = tokyo_time(now_utc)
    first = month_start(month)
    start = datetime(first.year, first.month, 1, tzinfo=now.tzinfo)
    total = days_in(month)
    return min(float(total), max(0.0, (now - start).total_seconds() / 86400.0))


def _grouped(db: Session, key: Any, month: str) -> list[tuple[Any, float, int]]:
    query = (
        select(key, func.sum(UsageRecord.audio_seconds), func.count()).where(UsageRecord.month == month).group_by(key)
    )
    return [(k, float(s or 0.0), int(n)) for k, s, n in db.exec(query).all()]


def _rows(groups: list[tuple[Any, float, int]], field: str) -> list[dict[str, Any]]:
    return [
        {field: k, "hours": _h(s), "recordings": n, "average_minutes": round(s / n / 60.0, 1) if n else 0.0}
        for k, s, n in sorted(groups, key=lambda g: (-g[1], str(g[0])))
    ]


def cap_level(hours: float, cap: float | None) -> int | None:
    """The alert level reached (80 or 100 % of the cap), if any."""
    if not cap:
        return None
    share = hours / cap
    return 100 if share >= 1.0 else 80 if share >= 0.8 else None


def month_view(db: Session, month: str, target: float, now_utc: datetime) -> dict[str, Any]:
    total_days = days_in(month)
    elapsed = elapsed_days(month, now_utc)
    daily = {day: seconds for day, seconds, _ in _grouped(db, UsageRecord.day, month)}
    used_seconds = sum(daily.values())
    used = used_seconds / HOURS
    today = tokyo_time(now_utc).date()
    first = month_start(month)
    days, cumulative = [], 0.0
    for number in range(1, total_days + 1):
        day = date(first.year, first.month, number)
        cumulative += daily.get(day, 0.0)
        future = day > today
        days.append(
            {
                "date": day.isoformat(),
                "hours": None if future else _h(daily.get(day, 0.0)),
                "cumulative": None if future else _h(cumulative),
                "target_line": round(target * number / total_days, 3),
            }
        )
    pace = used / elapsed if elapsed > 0 else 0.0
    remaining = total_days - elapsed
    departments = {d.id: d for d in db.exec(select(Department)).all()}
    by_department = []
    for row in _rows(_grouped(db, UsageRecord.department_id, month), "department_id"):
        department = departments.get(row["department_id"])
        cap = department.monthly_cap_hours if department else None
        row.update(
            department=department.name if department else str(row["department_id"]),
            cap_hours=cap,
            cap_percent=round(row["hours"] / cap * 100, 1) if cap else None,
            alert=cap_level(row["hours"], cap),
        )
        by_department.append(row)
    recordings = sum(row["recordings"] for row in by_department)
    return {
        "month": month,
        "target_hours": target,
        "used_hours": round(used, 3),
        "percent": round(used / target * 100, 1) if target else None,
        "recordings": recordings,
        "average_minutes": round(used_seconds / recordings / 60.0, 1) if recordings else 0.0,
        "days_in_month": total_days,
        "elapsed_days": round(elapsed, 3),
        "pace_hours_per_day": round(pace, 3),
        "projection_hours": round(used + pace * remaining, 1) if 0 < elapsed < total_days else round(used, 1),
        "needed_hours_per_day": round(max(0.0, target - used) / remaining, 3) if remaining > 0 else None,
        "days": days,
        "by_department": by_department,
        "by_source": _rows(_grouped(db, UsageRecord.source, month), "source"),
        "by_kind": _rows(_grouped(db, UsageRecord.kind, month), "kind"),
        "quality": quality(db, month),
    }


def monthly_hours(db: Session, months: list[str]) -> list[dict[str, Any]]:
    query = (
        select(UsageRecord.month, func.sum(UsageRecord.audio_seconds), func.count())
        .where(col(UsageRecord.month).in_(months))
        .group_by(UsageRecord.month)
    )
    found = {m: (float(s or 0.0), int(n)) for m, s, n in db.exec(query).all()}
    return [
        {"month": m, "hours": _h(found.get(m, (0.0, 0))[0]), "recordings": found.get(m, (0.0, 0))[1]} for m in months
    ]


def quality(db: Session, month: str) -> list[dict[str, Any]]:
    """Edit rate: characters clerks changed ÷ characters of the machine transcript, per department and model."""
    query = (
        sql_select(
            col(Recording.department_id),
            col(TranscriptRecord.model),
            func.sum(Recording.edited_chars),
            func.sum(Recording.machine_chars),
            func.count(),
        )
        .join(UsageRecord, col(UsageRecord.recording_id) == Recording.id)
        .join(TranscriptRecord, col(TranscriptRecord.recording_id) == Recording.id)
        .where(col(UsageRecord.month) == month, col(Recording.edited_chars).is_not(None))
        .group_by(col(Recording.department_id), col(TranscriptRecord.model))
    )
    names = {d.id: d.name for d in db.exec(select(Department)).all()}
    return [
        {
            "department_id": dep,
            "department": names.get(dep, str(dep)),
            "model": model,
            "edit_rate": round(edited / machine, 4) if machine else None,
            "recordings": int(n),
        }
        for dep, model, edited, machine, n in db.execute(query).all()
    ]


def dashboard(db: Session, month: str, target: float, now_utc: datetime) -> dict[str, Any]:
    year = fiscal_year_of(month)
    trend = monthly_hours(db, [shift_month(month, -k) for k in range(11, -1, -1)])
    fiscal = monthly_hours(db, fiscal_months(year))
    return {
        **month_view(db, month, target, now_utc),
        "trend": trend,
        "fiscal_year": {
            "year": year,
            "label": f"{era_label(year)} ({year}年度)",
            "target_hours": target * 12,
            "used_hours": round(sum(m["hours"] for m in fiscal), 3),
            "by_month": fiscal,
        },
    }

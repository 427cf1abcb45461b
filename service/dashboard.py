"""The managers' dashboard: a month against the target, its days, breakdowns, trend, fiscal year,
caps and the edit-rate quality figure. Every figure is a SQL aggregate (200,000 records stay fast).

Months, days and fiscal years are Asia/Tokyo; a month with no usage is a row of zeros, not a gap.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from service.access import Caller, audit, valid_id
from service.errors import ServiceError, not_found
from service.models import KIND_LABELS, Department, Recording, TranscriptRecord, UsageRecord, utcnow
from service.settings import get_settings
from service.spreadsheet_safety import csv_bytes, xlsx_bytes
from service.usage import checked_month, fiscal_months, tokyo_time

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


def dashboard_for(db: Session, month: str | None) -> dict[str, Any]:
    """``dashboard`` for a ``YYYY-MM`` parameter (None: this month), against the settings' target."""
    return dashboard(db, checked_month(month), get_settings().usage_target_hours, utcnow())


# --- exports ---------------------------------------------------------------------------------------

MAX_MONTHS = 13
SOURCE_LABELS = {"web": "画面から", "device": "会議室機器", "api": "API"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def months_between(start: str, end: str) -> list[str]:
    months = [start]
    while months[-1] < end and len(months) <= MAX_MONTHS:
        months.append(shift_month(months[-1], 1))
    if months[-1] != end or len(months) > MAX_MONTHS:
        raise ServiceError(422, "range", f"期間は開始月から終了月まで最大{MAX_MONTHS}か月です。")
    return months


def export_rows(db: Session, view: str, months: list[str]) -> tuple[list[str], list[list[Any]]]:
    """The rows of one dashboard view over the months (the table the page shows)."""
    target = get_settings().usage_target_hours
    now = utcnow()
    if view == "monthly":
        rows = [[m["month"], m["hours"], m["recordings"], target] for m in monthly_hours(db, months)]
        return ["月", "利用時間", "件数", "目標時間"], rows
    if view == "daily":
        rows = []
        for month in months:
            for day in month_view(db, month, target, now)["days"]:
                rows.append([day["date"], day["hours"] or 0.0, day["cumulative"] or 0.0, day["target_line"]])
        return ["日付", "利用時間", "累計", "目標線"], rows
    out: list[list[Any]] = []
    for month in months:
        figures = month_view(db, month, target, now)
        if view == "department":
            for r in figures["by_department"]:
                out.append([month, r["department"], r["hours"], r["recordings"], r["average_minutes"], r["cap_hours"]])
        elif view == "source":
            for r in figures["by_source"]:
                out.append([month, SOURCE_LABELS.get(r["source"], r["source"]), r["hours"], r["recordings"]])
        elif view == "kind":
            for r in figures["by_kind"]:
                out.append([month, KIND_LABELS.get(r["kind"], r["kind"]), r["hours"], r["recordings"]])
        elif view == "quality":
            for r in figures["quality"]:
                out.append([month, r["department"], r["model"], r["edit_rate"], r["recordings"]])
    headers = {
        "department": ["月", "部署", "利用時間", "件数", "平均(分)", "月上限(時間)"],
        "source": ["月", "経路", "利用時間", "件数"],
        "kind": ["月", "種類", "利用時間", "件数"],
        "quality": ["月", "部署", "モデル", "修正率", "件数"],
    }
    return headers[view], out


@dataclass(frozen=True)
class UsageExport:
    data: bytes
    media_type: str
    filename: str


def export_usage(
    db: Session, caller: Caller, view: str, start: str | None, end: str | None, fmt: str, *, ip: str
) -> UsageExport:
    """One view from ``start`` to ``end`` (at most 13 months; None: this month) as CSV or xlsx."""
    last = checked_month(end, "end")
    first = checked_month(start, "start") if start else last
    if first > last:
        raise ServiceError(422, "range", "開始月が終了月より後になっています。")
    headers, rows = export_rows(db, view, months_between(first, last))
    audit(db, "usage.export", caller=caller, detail=f"{view} {first}..{last} {fmt}", ip=ip)
    filename = f"kiroku-usage-{view}-{first}-{last}.{fmt}"
    if fmt == "csv":
        # The byte-order mark makes Excel read the file as UTF-8; names stay text (spreadsheet_safety).
        return UsageExport(csv_bytes(headers, rows), "text/csv; charset=utf-8", filename)
    return UsageExport(xlsx_bytes(view, headers, rows), XLSX, filename)


def set_cap(db: Session, caller: Caller, department_id: int, hours: float | None, *, ip: str) -> dict[str, Any]:
    """A department's monthly cap in hours (None or 0: no cap); managers are alerted at 80 and 100 %."""
    department = db.get(Department, department_id) if valid_id(department_id) else None
    if department is None:
        raise not_found()
    department.monthly_cap_hours = hours or None
    db.add(department)
    detail = f"department {department_id} cap {hours}"
    audit(db, "admin.cap", caller=caller, detail=detail, ip=ip, commit=False)
    db.commit()
    return {"department_id": department_id, "monthly_cap_hours": department.monthly_cap_hours}

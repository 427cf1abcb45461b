"""The managers' dashboard and its exports, against a ledger whose figures are computed by hand.

The ledger spans the fiscal-year boundary (31 March / 1 April in Asia/Tokyo, where UTC is still
31 March) and two departments.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.alerts import check_cap
from service.dashboard import dashboard, era_label
from service.models import Department, Recording, TranscriptRecord, UsageAlert, User
from service.settings import get_settings
from service.usage import new_usage_record
from tests.service.conftest import World

# (UTC time, department user, source, kind, seconds)
LEDGER = [
    (datetime(2026, 3, 31, 14, 30, tzinfo=UTC), "clerk_kita", "web", "meeting", 3600),  # 3/31 23:30 JST: FY2025
    (datetime(2026, 3, 31, 15, 10, tzinfo=UTC), "clerk_kita", "device", "meeting", 1800),  # 4/1 00:10 JST: FY2026
    (datetime(2026, 4, 15, 1, 0, tzinfo=UTC), "clerk_zaisei", "web", "phone", 900),
    (datetime(2026, 4, 30, 14, 0, tzinfo=UTC), "clerk_kita", "web", "negotiation", 2700),  # 4/30 23:00 JST
    (datetime(2026, 4, 30, 16, 0, tzinfo=UTC), "clerk_zaisei", "api", "interview", 5400),  # 5/1 01:00 JST
]


def _seed(engine: Engine) -> dict[str, int]:
    departments = {}
    with Session(engine) as db:
        for at, user_name, source, kind, seconds in LEDGER:
            user = db.exec(select(User).where(User.name == user_name)).one()
            departments[user_name] = user.department_id
            recording = Recording(
                department_id=user.department_id, source=source, kind=kind, duration_seconds=seconds, title="x"
            )
            db.add(recording)
            db.flush()
            db.add(new_usage_record(recording, "whisper-base", seconds / 5, at=at))
        db.commit()
    return departments


def test_april_figures_by_hand(world: World) -> None:
    deps = _seed(world.engine)
    manager = world.client("manager_kita")
    april = manager.get("/api/v1/usage/dashboard", params={"month": "2026-04"}).json()
    assert april["used_hours"] == 1.5 and april["recordings"] == 3 and april["average_minutes"] == 30.0
    assert april["percent"] == 0.1 and april["days_in_month"] == 30
    assert april["projection_hours"] == 1.5  # a past month projects to what it used
    days = {d["date"]: d for d in april["days"]}
    assert len(days) == 30
    assert days["2026-04-01"]["hours"] == 0.5 and days["2026-04-02"]["hours"] == 0.0
    assert days["2026-04-15"]["cumulative"] == 0.75
    assert days["2026-04-30"] == {"date": "2026-04-30", "hours": 0.75, "cumulative": 1.5, "target_line": 1870.0}
    assert days["2026-04-15"]["target_line"] == pytest.approx(1870 * 15 / 30)
    by_dep = {r["department_id"]: r for r in april["by_department"]}
    assert by_dep[deps["clerk_kita"]]["hours"] == 1.25 and by_dep[deps["clerk_kita"]]["recordings"] == 2
    assert by_dep[deps["clerk_zaisei"]]["hours"] == 0.25
    assert {r["source"]: r["hours"] for r in april["by_source"]} == {"web": 1.0, "device": 0.5}
    assert {r["kind"]: r["hours"] for r in april["by_kind"]} == {"meeting": 0.5, "phone": 0.25, "negotiation": 0.75}
    fiscal = april["fiscal_year"]
    assert fiscal["year"] == 2026 and fiscal["label"] == "令和8年度 (2026年度)"
    assert fiscal["used_hours"] == 3.0 and fiscal["target_hours"] == 1870 * 12
    assert [m["month"] for m in fiscal["by_month"]][:2] == ["2026-04", "2026-05"]
    assert [m["hours"] for m in fiscal["by_month"]] == [1.5, 1.5] + [0.0] * 10
    trend = {m["month"]: m["hours"] for m in april["trend"]}
    assert len(trend) == 12 and trend["2026-03"] == 1.0 and trend["2025-05"] == 0.0
    march = manager.get("/api/v1/usage/dashboard", params={"month": "2026-03"}).json()
    assert march["used_hours"] == 1.0 and march["fiscal_year"]["label"] == "令和7年度 (2025年度)"


def test_projection_and_needed_pace_in_the_current_month(world: World) -> None:
    _seed(world.engine)
    with Session(world.engine) as db:
        # 15 April 12:00 JST: 14.5 of 30 days gone, 1.5 h used... of which 0.75 h before the 15th noon.
        now = datetime(2026, 4, 15, 3, 0, tzinfo=UTC)
        figures = dashboard(db, "2026-04", 1870.0, now)
    assert figures["elapsed_days"] == 14.5
    used = figures["used_hours"]
    assert figures["projection_hours"] == round(used + used / 14.5 * 15.5, 1)
    assert figures["needed_hours_per_day"] == round((1870 - used) / 15.5, 3)
    assert figures["days"][15]["hours"] is None  # 16 April has not happened yet


def test_empty_and_leap_months(world: World) -> None:
    manager = world.client("manager_zaisei")
    february = manager.get("/api/v1/usage/dashboard", params={"month": "2028-02"}).json()
    assert february["days_in_month"] == 29 and february["used_hours"] == 0.0
    assert all(d["hours"] in (0.0, None) for d in february["days"]) and february["by_department"] == []
    assert era_label(2019) == "令和元年度" and era_label(2018) == "平成30年度"


def test_csv_and_xlsx_exports(world: World) -> None:
    deps = _seed(world.engine)
    manager = world.client("manager_zaisei")
    response = manager.get("/api/v1/usage/export", params={"view": "department", "start": "2026-03", "end": "2026-05"})
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["月", "部署", "利用時間", "件数", "平均(分)", "月上限(時間)"]
    assert ["2026-04", "北区役所 保健福祉課", "1.25", "2", "37.5", ""] in rows
    assert ["2026-05", "財政局 税務部", "1.5", "1", "90.0", ""] in rows
    assert len(rows) == 1 + 1 + 2 + 1
    monthly = manager.get(
        "/api/v1/usage/export", params={"view": "monthly", "start": "2026-03", "end": "2026-05", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(monthly.content)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1:] == [["2026-03", 1.0, 1, 1870], ["2026-04", 1.5, 3, 1870], ["2026-05", 1.5, 1, 1870]]
    too_long = manager.get("/api/v1/usage/export", params={"view": "monthly", "start": "2025-01", "end": "2026-05"})
    assert too_long.status_code == 422
    assert deps


def test_clerks_cannot_see_the_dashboard(world: World) -> None:
    clerk = world.client("clerk_kita")
    assert clerk.get("/api/v1/usage/dashboard").status_code == 403
    assert clerk.get("/api/v1/usage/export").status_code == 403


def test_cap_alert_at_80_percent_once(world: World) -> None:
    deps = _seed(world.engine)
    admin = world.client("root_admin")
    assert admin.put(f"/api/v1/usage/caps/{deps['clerk_kita']}", json={"monthly_cap_hours": 1.5}).status_code == 200
    assert world.client("manager_kita").put(f"/api/v1/usage/caps/{deps['clerk_kita']}", json={}).status_code == 403
    with Session(world.engine) as db:
        assert check_cap(db, deps["clerk_kita"], "2026-04", get_settings()) == 80  # 1.25 of 1.5 h
        assert check_cap(db, deps["clerk_kita"], "2026-04", get_settings()) is None  # not twice
        assert len(db.exec(select(UsageAlert)).all()) == 1
    april = world.client("manager_kita").get("/api/v1/usage/dashboard", params={"month": "2026-04"}).json()
    kita = next(r for r in april["by_department"] if r["department_id"] == deps["clerk_kita"])
    assert kita["alert"] == 80 and kita["cap_percent"] == 83.3


def test_edit_rate_per_department_and_model(world: World) -> None:
    _seed(world.engine)
    with Session(world.engine) as db:
        recordings = db.exec(select(Recording).order_by(col(Recording.id))).all()
        for recording, (machine, edited, model) in zip(
            recordings[1:4], [(100, 10, "whisper-base"), (300, 30, "whisper-base"), (200, 2, "large-v3")], strict=True
        ):
            recording.machine_chars, recording.edited_chars = machine, edited
            db.add(recording)
            assert recording.id is not None
            db.add(TranscriptRecord(recording_id=recording.id, body={"segments": []}, model=model))
        db.commit()
        names = {d.id: d.name for d in db.exec(select(Department)).all()}
    april = world.client("manager_kita").get("/api/v1/usage/dashboard", params={"month": "2026-04"}).json()
    rates = {(names[r["department_id"]], r["model"]): (r["edit_rate"], r["recordings"]) for r in april["quality"]}
    # April holds recordings 2 (kita, 100/10), 3 (zaisei, 300/30) and 4 (kita, 200/2, large-v3).
    assert rates == {
        ("北区役所 保健福祉課", "whisper-base"): (0.1, 1),
        ("財政局 税務部", "whisper-base"): (0.1, 1),
        ("北区役所 保健福祉課", "large-v3"): (0.01, 1),
    }

"""Mutation tests of service/usage.py (issue 28): Tokyo months and fiscal years at their edges, a
recording counted once, and the figures a manager reads (hours, ratio, the order of the breakdowns)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from service.errors import ServiceError
from service.models import Department, Job, Recording, UsageRecord, utcnow
from service.usage import (
    add_usage_once,
    checked_month,
    fiscal_months,
    fiscal_year,
    has_usage,
    month_seconds,
    new_usage_record,
    summarize,
    tokyo_month,
    tokyo_time,
    usage_report,
)
from tests.service.test_mutation_recordings import Quick, open_quick

KITA, ZAISEI, DIGITAL = "北区役所 保健福祉課", "財政局 税務部", "デジタル統括室"


@pytest.fixture
def quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Quick]:
    yield from open_quick(tmp_path, monkeypatch)


def test_a_time_without_a_zone_is_utc_and_lands_in_tokyos_day() -> None:
    evening = datetime(2026, 3, 31, 15, 0)  # naive: UTC, already April 1st in Tokyo
    assert tokyo_time(evening) == datetime(2026, 4, 1, 0, 0, tzinfo=timezone(timedelta(hours=9)))
    assert tokyo_time(evening).utcoffset() == timedelta(hours=9)
    # A time given in another zone keeps its instant.
    new_york = datetime(2026, 3, 31, 11, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert tokyo_time(new_york) == tokyo_time(evening)
    assert tokyo_month(evening) == "2026-04" and tokyo_month(datetime(2026, 3, 31, 14, 59)) == "2026-03"
    assert tokyo_month(datetime(2009, 11, 5, 3, 7, tzinfo=UTC)) == "2009-11"


@pytest.fixture
def server_in_japan() -> Iterator[None]:
    """The machine's own clock set to Japan time (TZ), as a city's server often is."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("server_in_japan")
def test_a_time_read_back_without_a_zone_is_utc_even_on_a_server_set_to_japan_time(quick: Quick) -> None:
    # The database gives times back without a zone; they are UTC whatever the machine's clock says, so
    # a recording finished at 00:30 on April 1st in Tokyo counts in April and the new fiscal year.
    evening = datetime(2026, 3, 31, 15, 30)
    assert tokyo_time(evening).isoformat() == "2026-04-01T00:30:00+09:00"
    assert (tokyo_month(evening), fiscal_year(evening)) == ("2026-04", 2026)
    record = new_usage_record(_recording(quick), "m", 1.0, at=evening)
    assert (record.month, record.day, record.fiscal_year) == ("2026-04", date(2026, 4, 1), 2026)


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (datetime(2026, 3, 31, 14, 59, tzinfo=UTC), 2025),  # 03-31 23:59 in Tokyo
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), 2026),  # 04-01 00:00 in Tokyo
        (datetime(2026, 4, 30, 0, 0, tzinfo=UTC), 2026),
        (datetime(2026, 5, 1, 0, 0, tzinfo=UTC), 2026),
        (datetime(2026, 12, 31, 0, 0, tzinfo=UTC), 2026),
        (datetime(2027, 1, 10, 0, 0, tzinfo=UTC), 2026),
    ],
)
def test_the_fiscal_year_starts_in_april_in_tokyo(moment: datetime, year: int) -> None:
    assert fiscal_year(moment) == year


def test_the_twelve_months_of_a_fiscal_year() -> None:
    assert fiscal_months(2026) == [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
        "2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03",
    ]  # fmt: skip


def test_a_month_parameter_is_checked_and_named_in_the_refusal() -> None:
    before = tokyo_month(utcnow())
    assert checked_month(None) in {before, tokyo_month(utcnow())}
    for good in ("1900-01", "2026-04", "2199-12", "2026-10"):
        assert checked_month(good) == good
    for bad in ("1899-12", "2200-01", "2026-13", "2026-00", "2026-4", "2026-04x", "x2026-04"):
        with pytest.raises(ServiceError) as refused:
            checked_month(bad, "since")
        error = refused.value
        assert (error.status, error.code) == (422, "since"), bad
        assert error.message == "since は YYYY-MM の形式(1900〜2199 年)で指定してください。"
    with pytest.raises(ServiceError) as default:
        checked_month("2026/04")
    assert default.value.code == "month" and default.value.message.startswith("month は")


def _recording(quick: Quick, owner: str = "clerk_kita", **values: Any) -> Recording:
    values = {"source": "web", "kind": "meeting", "duration_seconds": 3600.0, **values}
    return quick.recording(owner, audio=False, **values)


def test_a_usage_record_says_what_was_recognised_when_in_tokyo(quick: Quick) -> None:
    recording = _recording(quick, "clerk_zaisei", source="device", kind="phone", duration_seconds=1234.5)
    at = datetime(2027, 3, 31, 15, 30, tzinfo=UTC)  # 2027-04-01 00:30 in Tokyo
    record = new_usage_record(recording, "whisper-base", 12.5, at=at)
    assert (record.recording_id, record.department_id) == (recording.id, quick.department("clerk_zaisei"))
    assert (record.source, record.kind, record.model) == ("device", "phone", "whisper-base")
    assert (record.audio_seconds, record.processing_seconds, record.recorded_at) == (1234.5, 12.5, at)
    assert (record.month, record.day, record.fiscal_year) == ("2027-04", date(2027, 4, 1), 2027)
    now = new_usage_record(recording, "m", 1.0)
    assert abs((now.recorded_at - utcnow()).total_seconds()) < 60 and now.month == tokyo_month(utcnow())


def test_a_recording_is_counted_once(quick: Quick, monkeypatch: pytest.MonkeyPatch) -> None:
    recording, other = _recording(quick), _recording(quick)
    assert recording.id is not None and other.id is not None
    with Session(quick.engine) as db:
        assert not has_usage(db, recording.id)
        assert add_usage_once(db, new_usage_record(recording, "first", 1.0)) is True
        db.commit()
        assert has_usage(db, recording.id) and not has_usage(db, other.id)
        assert add_usage_once(db, new_usage_record(recording, "second", 1.0)) is False
        assert add_usage_once(db, new_usage_record(other, "other", 1.0)) is True
        db.commit()
    # Two workers at once: both saw no record; the unique key refuses the second, and only that insert
    # is undone (the job row added in the same transaction stays).
    monkeypatch.setattr("service.usage.has_usage", lambda db, recording_id: False)
    with Session(quick.engine) as db:
        job = Job(recording_id=recording.id)
        db.add(job)
        assert add_usage_once(db, new_usage_record(recording, "third", 1.0)) is False
        db.commit()
        assert job.id is not None and db.get(Job, job.id) is not None
        models = db.exec(select(UsageRecord.model).order_by(col(UsageRecord.id))).all()
    assert models == ["first", "other"]


def _ledger(quick: Quick, rows: list[tuple[str, str, str, float, datetime]]) -> None:
    """(owner, source, kind, seconds, UTC time) per recording."""
    with Session(quick.engine) as db:
        for owner, source, kind, seconds, at in rows:
            recording = _recording(quick, owner, source=source, kind=kind, duration_seconds=seconds)
            assert add_usage_once(db, new_usage_record(recording, "m", seconds / 10, at=at))
        db.commit()


APRIL = datetime(2026, 4, 10, 3, tzinfo=UTC)


def test_a_months_figures_and_their_order(quick: Quick) -> None:
    _ledger(
        quick,
        [
            ("clerk_kita", "web", "meeting", 1800.0, APRIL),
            ("clerk_zaisei", "api", "phone", 1800.0, APRIL),  # ties with kita: the lower id first
            ("root_admin", "device", "interview", 3600.0, APRIL),
            ("clerk_kita", "api", "phone", 1.0, datetime(2026, 4, 30, 15, 0, tzinfo=UTC)),  # May 1st in Tokyo
        ],
    )
    with Session(quick.engine) as db:
        names = {d.name: d.id for d in db.exec(select(Department)).all() if d.id is not None}
        april = summarize(db, target_hours_per_month=10.0, month="2026-04", year=None)
        none = summarize(db, target_hours_per_month=0.0, month="2026-06", year=None)
    departments = sorted([names[KITA], names[ZAISEI]])
    first, second = (KITA, ZAISEI) if departments[0] == names[KITA] else (ZAISEI, KITA)
    assert april == {
        "period": {"month": "2026-04"},
        "target_hours": 10.0,
        "used_hours": 2.0,
        "ratio": 0.2,
        "recordings": 3,
        "by_department": [
            {"department_id": names[DIGITAL], "department": DIGITAL, "hours": 1.0, "recordings": 1},
            {"department_id": names[first], "department": first, "hours": 0.5, "recordings": 1},
            {"department_id": names[second], "department": second, "hours": 0.5, "recordings": 1},
        ],
        "by_source": [  # equal hours: by name
            {"source": "device", "hours": 1.0, "recordings": 1},
            {"source": "api", "hours": 0.5, "recordings": 1},
            {"source": "web", "hours": 0.5, "recordings": 1},
        ],
        "by_kind": [
            {"kind": "interview", "hours": 1.0, "recordings": 1},
            {"kind": "meeting", "hours": 0.5, "recordings": 1},
            {"kind": "phone", "hours": 0.5, "recordings": 1},
        ],
    }
    assert none["ratio"] is None and none["used_hours"] == 0.0 and "by_month" not in none


def test_hours_are_rounded_to_the_thousandth_and_the_ratio_to_four_places(quick: Quick) -> None:
    _ledger(quick, [("clerk_kita", "web", "meeting", 1234.5, APRIL), ("clerk_kita", "web", "meeting", 2.0, APRIL)])
    with Session(quick.engine) as db:
        april = summarize(db, target_hours_per_month=3.0, month="2026-04", year=None)
    # 1236.5 s = 0.343472 h; 0.343472 / 3 = 0.114491
    assert (april["used_hours"], april["ratio"]) == (0.343, 0.1145)
    assert april["by_source"] == [{"source": "web", "hours": 0.343, "recordings": 2}]
    assert isinstance(april["by_source"][0]["recordings"], int)


def test_a_fiscal_years_figures_month_by_month(quick: Quick) -> None:
    _ledger(
        quick,
        [
            ("clerk_kita", "web", "meeting", 3600.0, datetime(2026, 3, 31, 15, 0, tzinfo=UTC)),  # 04-01 FY2026
            ("clerk_kita", "web", "meeting", 1800.0, datetime(2027, 3, 31, 14, 0, tzinfo=UTC)),  # 03-31 FY2026
            ("clerk_kita", "web", "meeting", 7200.0, datetime(2027, 3, 31, 15, 0, tzinfo=UTC)),  # FY2027
            ("clerk_kita", "web", "meeting", 900.0, datetime(2026, 3, 31, 14, 0, tzinfo=UTC)),  # FY2025
        ],
    )
    with Session(quick.engine) as db:
        year = summarize(db, target_hours_per_month=10.0, month=None, year=2026)
    assert year["period"] == {"fiscal_year": 2026}
    assert (year["target_hours"], year["used_hours"], year["ratio"], year["recordings"]) == (120.0, 1.5, 0.0125, 2)
    assert year["by_month"] == [
        {"month": m, "hours": {"2026-04": 1.0, "2027-03": 0.5}.get(m, 0.0)} for m in fiscal_months(2026)
    ]


def test_the_report_takes_a_month_or_a_fiscal_year_and_the_settings_target(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.settings import get_settings

    monkeypatch.setenv("KIROKU_USAGE_TARGET_HOURS", "100")
    get_settings.cache_clear()
    _ledger(quick, [("clerk_kita", "web", "meeting", 3600.0, APRIL)])
    with Session(quick.engine) as db:
        month = usage_report(db, month="2026-04", fiscal_year=None)
        year = usage_report(db, month=None, fiscal_year=2026)
        now = usage_report(db, month=None, fiscal_year=None)
        with pytest.raises(ServiceError) as both:
            usage_report(db, month="2026-04", fiscal_year=2026)
        with pytest.raises(ServiceError) as bad:
            usage_report(db, month="2026-4", fiscal_year=None)
    get_settings.cache_clear()
    assert (month["period"], month["target_hours"], month["used_hours"]) == ({"month": "2026-04"}, 100.0, 1.0)
    assert (year["period"], year["target_hours"], year["used_hours"]) == ({"fiscal_year": 2026}, 1200.0, 1.0)
    assert now["period"] == {"month": tokyo_month(utcnow())} and "by_month" not in now
    assert (both.value.status, both.value.code) == (422, "period")
    assert both.value.message == "month と fiscal_year はどちらか一方を指定してください。"
    assert (bad.value.status, bad.value.code) == (422, "month")


def test_a_months_seconds_for_the_usage_cap(quick: Quick) -> None:
    with Session(quick.engine) as db:
        assert month_seconds(db, "2026-04") == 0.0
    _ledger(
        quick,
        [
            ("clerk_kita", "web", "meeting", 100.5, APRIL),
            ("clerk_zaisei", "web", "meeting", 200.0, APRIL),
            ("clerk_kita", "web", "meeting", 999.0, datetime(2026, 5, 2, tzinfo=UTC)),
        ],
    )
    with Session(quick.engine) as db:
        seconds = month_seconds(db, "2026-04")
    assert seconds == 300.5 and isinstance(seconds, float)


def test_departments_with_equal_hours_keep_one_order_in_the_report(quick: Quick) -> None:
    # Equal hours: the department created first comes first, however many recordings make its hours.
    low, high = sorted(["clerk_kita", "clerk_zaisei"], key=quick.department)
    _ledger(
        quick,
        [
            (high, "web", "meeting", 1800.0, APRIL),
            (low, "web", "meeting", 900.0, APRIL),
            (low, "web", "meeting", 900.0, APRIL),
        ],
    )
    with Session(quick.engine) as db:
        april = summarize(db, target_hours_per_month=10.0, month="2026-04", year=None)
    shown = [(d["department_id"], d["hours"], d["recordings"]) for d in april["by_department"]]
    assert shown == [(quick.department(low), 0.5, 2), (quick.department(high), 0.5, 1)]

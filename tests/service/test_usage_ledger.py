"""The usage ledger and `GET /api/v1/usage`: months and fiscal years (April–March) in Asia/Tokyo.

A ledger is seeded with explicit UTC times around the boundaries (a UTC evening that is already the
next day, month or fiscal year in Tokyo), over three departments, every source and kind; every
figure the API returns is checked against values worked out by hand in the table below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from service.models import Department, Job, JobStatus, Recording, UsageRecord, utcnow
from service.usage import add_usage_once, new_usage_record, tokyo_month
from tests.conftest import SINGLE
from tests.service.conftest import World, run_queued_job
from transcriber.transcript import Transcript

KITA, ZAISEI, DIGITAL = "北区役所 保健福祉課", "財政局 税務部", "デジタル統括室"

# (UTC time, department, source, kind, audio seconds); Tokyo time, month and fiscal year in the comment.
LEDGER = [
    (datetime(2025, 3, 31, 14, 59, 59, tzinfo=UTC), KITA, "web", "meeting", 3600.0),  # 03-31 23:59:59 FY2024
    (datetime(2025, 3, 31, 15, 0, 0, tzinfo=UTC), DIGITAL, "api", "interview", 1800.0),  # 04-01 00:00 FY2025
    (datetime(2026, 2, 28, 16, 0, tzinfo=UTC), ZAISEI, "device", "meeting", 2700.0),  # 2026-03-01 01:00 FY2025
    (datetime(2026, 3, 31, 14, 30, tzinfo=UTC), KITA, "web", "meeting", 5400.0),  # 2026-03-31 23:30 FY2025
    (datetime(2026, 3, 31, 15, 10, tzinfo=UTC), KITA, "device", "interview", 1800.0),  # 2026-04-01 00:10 FY2026
    (datetime(2026, 4, 10, 1, 0, tzinfo=UTC), ZAISEI, "web", "negotiation", 4500.0),  # 2026-04-10 10:00
    (datetime(2026, 4, 20, 3, 0, tzinfo=UTC), ZAISEI, "api", "phone", 1234.5),  # 2026-04-20 12:00
    (datetime(2026, 4, 30, 14, 59, 59, tzinfo=UTC), DIGITAL, "web", "meeting", 600.0),  # 2026-04-30 23:59:59
    (datetime(2026, 4, 30, 15, 0, tzinfo=UTC), ZAISEI, "api", "phone", 900.0),  # 2026-05-01 00:00
    (datetime(2026, 12, 31, 15, 30, tzinfo=UTC), KITA, "web", "phone", 3600.0),  # 2027-01-01 00:30 FY2026
    (datetime(2027, 3, 31, 14, 59, tzinfo=UTC), KITA, "api", "meeting", 7200.0),  # 2027-03-31 23:59 FY2026
    (datetime(2027, 3, 31, 15, 0, tzinfo=UTC), ZAISEI, "web", "meeting", 3600.0),  # 2027-04-01 00:00 FY2027
]
# Where each row lands: (month, fiscal year), by hand.
LANDS = [
    ("2025-03", 2024),
    ("2025-04", 2025),
    ("2026-03", 2025),
    ("2026-03", 2025),
    ("2026-04", 2026),
    ("2026-04", 2026),
    ("2026-04", 2026),
    ("2026-04", 2026),
    ("2026-05", 2026),
    ("2027-01", 2026),
    ("2027-03", 2026),
    ("2027-04", 2027),
]


def seed(engine: Engine) -> dict[str, int]:
    """The ledger above, one recording per row, through the code the worker uses."""
    with Session(engine) as db:
        departments = {d.name: d.id for d in db.exec(select(Department)).all() if d.id is not None}
        for at, department, source, kind, seconds in LEDGER:
            recording = Recording(
                department_id=departments[department], source=source, kind=kind, duration_seconds=seconds
            )
            db.add(recording)
            db.flush()
            assert add_usage_once(db, new_usage_record(recording, "whisper-base", seconds / 4, at=at))
        db.commit()
    return departments


def _department_rows(departments: dict[str, int], *rows: tuple[str, float, int]) -> list[dict[str, Any]]:
    return [
        {"department_id": departments[name], "department": name, "hours": hours, "recordings": count}
        for name, hours, count in rows
    ]


def test_month_figures(world: World) -> None:
    departments = seed(world.engine)
    with Session(world.engine) as db:
        stored = db.exec(select(UsageRecord).order_by(col(UsageRecord.id))).all()
    assert [(r.month, r.fiscal_year) for r in stored] == LANDS
    assert stored[3].audio_seconds == 5400.0 and stored[3].processing_seconds == 1350.0
    manager = world.client("manager_kita")

    april = manager.get("/api/v1/usage", params={"month": "2026-04"})
    assert april.status_code == 200, april.text
    # 1800 + 4500 + 1234.5 + 600 = 8134.5 s = 2.2596 h; the 00:10 JST row of 04-01 counts, 05-01 00:00 does not.
    assert april.json() == {
        "period": {"month": "2026-04"},
        "target_hours": 1870.0,
        "used_hours": 2.26,
        "ratio": 0.0012,
        "recordings": 4,
        "by_department": _department_rows(
            departments, (ZAISEI, 1.593, 2), (KITA, 0.5, 1), (DIGITAL, 0.167, 1)
        ),  # a manager sees every department's hours, not only their own
        "by_source": [
            {"source": "web", "hours": 1.417, "recordings": 2},
            {"source": "device", "hours": 0.5, "recordings": 1},
            {"source": "api", "hours": 0.343, "recordings": 1},
        ],
        "by_kind": [
            {"kind": "negotiation", "hours": 1.25, "recordings": 1},
            {"kind": "interview", "hours": 0.5, "recordings": 1},
            {"kind": "phone", "hours": 0.343, "recordings": 1},
            {"kind": "meeting", "hours": 0.167, "recordings": 1},
        ],
    }

    march = manager.get("/api/v1/usage", params={"month": "2026-03"}).json()  # 2700 + 5400 s, the FY's last month
    assert (march["used_hours"], march["recordings"]) == (2.25, 2)
    assert march["by_department"] == _department_rows(departments, (KITA, 1.5, 1), (ZAISEI, 0.75, 1))
    assert march["by_source"] == [
        {"source": "web", "hours": 1.5, "recordings": 1},
        {"source": "device", "hours": 0.75, "recordings": 1},
    ]
    assert march["by_kind"] == [{"kind": "meeting", "hours": 2.25, "recordings": 2}]

    may = manager.get("/api/v1/usage", params={"month": "2026-05"}).json()
    assert (may["used_hours"], may["recordings"], may["by_department"][0]["department"]) == (0.25, 1, ZAISEI)
    assert manager.get("/api/v1/usage", params={"month": "2025-03"}).json()["used_hours"] == 1.0
    empty = manager.get("/api/v1/usage", params={"month": "2026-06"}).json()
    assert empty == {
        "period": {"month": "2026-06"},
        "target_hours": 1870.0,
        "used_hours": 0.0,
        "ratio": 0.0,
        "recordings": 0,
        "by_department": [],
        "by_source": [],
        "by_kind": [],
    }


def _by_month(year: int, hours: dict[str, float]) -> list[dict[str, Any]]:
    """Twelve months, April to March, zero where nothing was used."""
    months = [f"{year}-{m:02d}" for m in range(4, 13)] + [f"{year + 1}-{m:02d}" for m in range(1, 4)]
    return [{"month": m, "hours": hours.get(m, 0.0)} for m in months]


def test_fiscal_year_figures(world: World) -> None:
    departments = seed(world.engine)
    admin = world.client("root_admin")

    fy2026 = admin.get("/api/v1/usage", params={"fiscal_year": "2026"})
    assert fy2026.status_code == 200, fy2026.text
    body = fy2026.json()
    # April 2026 to March 2027: 1800 + 4500 + 1234.5 + 600 + 900 + 3600 + 7200 = 19834.5 s = 5.5096 h.
    assert body == {
        "period": {"fiscal_year": 2026},
        "target_hours": 22440.0,  # 1870 × 12
        "used_hours": 5.51,
        "ratio": 0.0002,
        "recordings": 7,
        "by_department": _department_rows(departments, (KITA, 3.5, 3), (ZAISEI, 1.843, 3), (DIGITAL, 0.167, 1)),
        "by_source": [
            {"source": "api", "hours": 2.593, "recordings": 3},
            {"source": "web", "hours": 2.417, "recordings": 3},
            {"source": "device", "hours": 0.5, "recordings": 1},
        ],
        "by_kind": [
            {"kind": "meeting", "hours": 2.167, "recordings": 2},
            {"kind": "phone", "hours": 1.593, "recordings": 3},
            {"kind": "negotiation", "hours": 1.25, "recordings": 1},
            {"kind": "interview", "hours": 0.5, "recordings": 1},
        ],
        "by_month": _by_month(2026, {"2026-04": 2.26, "2026-05": 0.25, "2027-01": 1.0, "2027-03": 2.0}),
    }
    assert sum(m["hours"] for m in body["by_month"]) == pytest.approx(body["used_hours"], abs=0.002)

    fy2025 = admin.get("/api/v1/usage", params={"fiscal_year": "2025"}).json()  # 1800 + 2700 + 5400 s
    assert (fy2025["used_hours"], fy2025["recordings"]) == (2.75, 3)
    assert fy2025["by_month"] == _by_month(2025, {"2025-04": 0.5, "2026-03": 2.25})
    assert fy2025["by_month"][0]["month"] == "2025-04" and fy2025["by_month"][-1]["month"] == "2026-03"
    assert fy2025["by_department"] == _department_rows(
        departments, (KITA, 1.5, 1), (ZAISEI, 0.75, 1), (DIGITAL, 0.5, 1)
    )

    for year, hours in ((2024, 1.0), (2027, 1.0), (2030, 0.0)):
        other = admin.get("/api/v1/usage", params={"fiscal_year": str(year)}).json()
        assert other["used_hours"] == hours and len(other["by_month"]) == 12


def test_who_may_read_usage_and_bad_periods(world: World) -> None:
    seed(world.engine)
    assert world.client().get("/api/v1/usage").status_code == 401
    for clerk in ("clerk_kita", "clerk_zaisei"):
        refused = world.client(clerk).get("/api/v1/usage", params={"month": "2026-04"})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    for name in ("manager_kita", "manager_zaisei", "root_admin"):
        assert world.client(name).get("/api/v1/usage", params={"fiscal_year": "2026"}).status_code == 200

    manager = world.client("manager_zaisei")
    before = tokyo_month(utcnow())
    current = manager.get("/api/v1/usage").json()  # no period: this month in Tokyo
    assert current["period"]["month"] in {before, tokyo_month(utcnow())} and current["target_hours"] == 1870.0
    for month in ("2026-13", "2026-00", "2026-4", "26-04", "2026-04-01", "2026/04", "四月", ""):
        bad = manager.get("/api/v1/usage", params={"month": month})
        assert bad.status_code == 422, month
        assert "YYYY-MM" in bad.json()["detail"]
    for params in ({"fiscal_year": "1999"}, {"fiscal_year": "令和8"}, {"month": "2026-04", "fiscal_year": "2026"}):
        assert manager.get("/api/v1/usage", params=params).status_code == 422, params


def _count(engine: Engine) -> int:
    with Session(engine) as db:
        return int(db.exec(select(func.count()).select_from(UsageRecord)).one())


def test_a_recording_counts_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(world.engine)
    with Session(world.engine) as db:
        recording = db.exec(select(Recording).order_by(col(Recording.id))).first()
        assert recording is not None and recording.id is not None
        recording_id = recording.id
        first_id = db.exec(select(UsageRecord.id).where(UsageRecord.recording_id == recording_id)).one()
        later = new_usage_record(recording, "large-v3", 99.0, at=datetime(2026, 8, 1, tzinfo=UTC))
        assert add_usage_once(db, later) is False
        db.commit()
    assert _count(world.engine) == len(LEDGER)

    # Two workers finishing at once both see "no usage yet": the unique key refuses the second insert,
    # and only that insert is rolled back, not the rest of the transaction.
    monkeypatch.setattr("service.usage.has_usage", lambda db, recording_id: False)
    with Session(world.engine) as db:
        again = db.get(Recording, recording_id)
        assert again is not None
        job = Job(recording_id=recording_id, status=JobStatus.succeeded)
        db.add(job)
        assert add_usage_once(db, new_usage_record(again, "large-v3", 99.0)) is False
        db.commit()
        assert job.id is not None and db.get(Job, job.id) is not None
        kept = db.exec(select(UsageRecord).where(UsageRecord.recording_id == recording_id)).one()
        assert (kept.id, kept.month, kept.model) == (first_id, "2025-03", "whisper-base")
    assert _count(world.engine) == len(LEDGER)


def _stub_transcribe(path: Path, progress: Any, terms: Any, hints: Any) -> Transcript:
    progress("transcribe", 0.5)
    return Transcript.model_validate(
        {
            "duration": 9.45,
            "segments": [{"start": 0.0, "end": 3.0, "text": "本日の議題は来年度の予算についてです。"}],
            "model": "stub-model",
        }
    )


def test_running_a_job_again_does_not_count_twice(world: World, service_env: dict[str, str]) -> None:
    clerk = world.client("clerk_kita")
    with SINGLE.open("rb") as handle:
        created = clerk.post("/api/v1/recordings", files={"file": handle}, data={"kind": "phone"}).json()
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    assert run_queued_job(world.engine, created["job_id"], _stub_transcribe, storage) == "succeeded"
    with Session(world.engine) as db:
        first = db.exec(select(UsageRecord)).one()
    assert (first.recording_id, first.source, first.kind, first.model) == (created["id"], "web", "phone", "stub-model")
    assert first.audio_seconds == 9.45

    # The same job again (an operator resets it to queued) and a new job for the same recording.
    with Session(world.engine) as db:
        job = db.get(Job, created["job_id"])
        assert job is not None
        job.status, job.worker, job.finished_at = JobStatus.queued, "", None
        rerun = Job(recording_id=created["id"])
        db.add(job)
        db.add(rerun)
        db.commit()
        rerun_id = rerun.id
        assert rerun_id is not None
    assert run_queued_job(world.engine, created["job_id"], _stub_transcribe, storage) == "succeeded"
    assert run_queued_job(world.engine, rerun_id, _stub_transcribe, storage) == "succeeded"

    with Session(world.engine) as db:
        records = db.exec(select(UsageRecord)).all()
        assert [(r.id, r.recorded_at, r.month) for r in records] == [(first.id, first.recorded_at, first.month)]
        assert db.get(Job, created["job_id"]).attempts == 2  # type: ignore[union-attr]
    usage = world.client("manager_kita").get("/api/v1/usage", params={"month": first.month}).json()
    assert usage["recordings"] == 1
    assert usage["used_hours"] == round(9.45 / 3600, 3)
    assert usage["by_source"] == [{"source": "web", "hours": 0.003, "recordings": 1}]

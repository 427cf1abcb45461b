"""Benchmark: the dashboard's query on a ledger of 200,000 usage records (PostgreSQL by default).

    python bench/dashboard_query.py [--records 200000] [--runs 50] [--url postgresql+psycopg://postgres@127.0.0.1/postgres]

Creates a scratch database, seeds departments, recordings and usage records spread over 13 months
(Asia/Tokyo), then times the whole dashboard computation (every figure the page shows) for the
busiest month and prints p50/p95. The scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.dashboard import dashboard
from service.db import make_engine, migrate
from service.models import Department, Recording, UsageRecord
from service.usage import fiscal_year, tokyo_month, tokyo_time

SOURCES, KINDS = ["web", "device", "api"], ["meeting", "interview", "negotiation", "phone"]


def seed(url: str, records: int) -> None:
    engine = make_engine(url)
    rng = random.Random(7)
    with Session(engine) as db:
        departments = [Department(name=f"部署{i:02d}") for i in range(40)]
        db.add_all(departments)
        db.commit()
        dep_ids = [d.id for d in departments]
    start = datetime(2025, 11, 1, tzinfo=UTC)
    batch = 10_000
    with engine.begin() as conn:
        for offset in range(0, records, batch):
            recordings: list[dict[str, object]] = []
            usage: list[dict[str, object]] = []
            for index in range(offset, min(records, offset + batch)):
                at = start + timedelta(seconds=rng.uniform(0, 395 * 86400))
                seconds = rng.uniform(300, 7200)
                dep = rng.choice(dep_ids)
                source, kind = rng.choice(SOURCES), rng.choice(KINDS)
                recordings.append(
                    {
                        "id": index + 1,
                        "department_id": dep,
                        "source": source,
                        "kind": kind,
                        "duration_seconds": seconds,
                        "title": "",
                        "created_at": at,
                        "machine_chars": 3000,
                        "edited_chars": rng.randint(0, 300),
                        "dictionary_ids": [],
                    }
                )
                usage.append(
                    {
                        "recording_id": index + 1,
                        "department_id": dep,
                        "source": source,
                        "kind": kind,
                        "model": "whisper-base",
                        "audio_seconds": seconds,
                        "processing_seconds": seconds / 4,
                        "recorded_at": at,
                        "month": tokyo_month(at),
                        "day": tokyo_time(at).date(),
                        "fiscal_year": fiscal_year(at),
                    }
                )
            conn.execute(insert(Recording), recordings)
            conn.execute(insert(UsageRecord), usage)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('recording_id_seq', (SELECT max(id) FROM recording))"))
            conn.execute(text("ANALYZE"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--month", default="2026-06")
    args = parser.parse_args()
    name = f"kiroku_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        started = time.perf_counter()
        seed(url, args.records)
        print(f"seeded {args.records} usage records in {time.perf_counter() - started:.0f} s")
        engine = make_engine(url)
        timings = []
        with Session(engine) as db:
            for _ in range(args.runs):
                started = time.perf_counter()
                figures = dashboard(db, args.month, 1870.0, datetime(2026, 6, 20, tzinfo=UTC))
                timings.append(time.perf_counter() - started)
        engine.dispose()
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        print(f"month {args.month}: {figures['used_hours']:.0f} h in {figures['recordings']} recordings")
        print("| ledger | runs | p50 | p95 | max |\n| --- | --- | --- | --- | --- |")
        print(
            f"| {args.records:,} records, PostgreSQL | {args.runs} | {statistics.median(timings) * 1000:.0f} ms "
            f"| {p95 * 1000:.0f} ms | {timings[-1] * 1000:.0f} ms |"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Capacity simulation: a month of recordings through N workers (not a test; docs/capacity.md).

    python bench/capacity_sim.py                          # the tables in docs/capacity.md
    python bench/capacity_sim.py --rtf 0.05 --workers 1 2 3 --hours 1870 --month 2026-11

Replays one month of arrivals: recordings are uploaded when they end, on working days (weekends,
Japanese public holidays and the city's year-end closure excluded unless --no-holidays), clustered
in office hours with a morning and a late-afternoon peak, and on a few peak days (council and
committee season) at --peak-factor times the ordinary day's volume. Lengths depend on the kind
(meetings 30-120 min, interviews 20-60, negotiations 30-90, phone calls 5-15; triangular
distributions) and the kinds' shares of the hours are fixed, so the month totals about --hours of
audio. Each recording takes ``duration x RTF + overhead`` seconds of one worker; workers take
jobs first in, first out, one at a time (the service's queue: prefetch 1, one job per worker).

Prints, per RTF and number of workers: utilisation over the month and in the busiest hour, the
office-hours capacity margin, mean / p95 / max queue wait, the p95 wait and time-to-transcript of a
1-hour meeting uploaded in the busiest hour, the audio still queued at month end and the hours
processed. Pure Python and NumPy, a fixed seed: the same table every run, in about a second.
"""

from __future__ import annotations

import argparse
import calendar
import heapq
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Kind: (share of the month's audio hours, shortest, most common, longest length in minutes).
KINDS: dict[str, tuple[float, float, float, float]] = {
    "meeting": (0.60, 30.0, 60.0, 120.0),
    "interview": (0.20, 20.0, 30.0, 60.0),
    "negotiation": (0.10, 30.0, 45.0, 90.0),
    "phone": (0.10, 5.0, 8.0, 15.0),
}
# When recordings are uploaded (their end), by hour of day: a morning and a late-afternoon peak, a
# little in the evening (residents' meetings). Phone calls follow the call centre's hours.
UPLOAD_HOURS: dict[int, float] = {
    9: 0.03, 10: 0.08, 11: 0.13, 12: 0.12, 13: 0.06, 14: 0.10, 15: 0.13, 16: 0.14, 17: 0.12,
    18: 0.05, 19: 0.02, 20: 0.02,
}  # fmt: skip
PHONE_HOURS: dict[int, float] = {h: 1.0 for h in range(9, 18)}
ONE_HOUR_MEETING = (45.0, 75.0)  # minutes: what counts as "a 1-hour meeting"


# --- calendar ------------------------------------------------------------------------------------


def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def japanese_holidays(year: int) -> set[date]:
    """National holidays (祝日) of ``year`` with substitute and citizens' holidays; 2000-2099."""
    offset = year - 1980
    vernal = int(20.8431 + 0.242194 * offset - offset // 4)
    autumnal = int(23.2488 + 0.242194 * offset - offset // 4)
    days = {
        date(year, 1, 1), date(year, 2, 11), date(year, 2, 23), date(year, 3, vernal), date(year, 4, 29),
        date(year, 5, 3), date(year, 5, 4), date(year, 5, 5), date(year, 8, 11), date(year, 9, autumnal),
        date(year, 11, 3), date(year, 11, 23),
        _nth_monday(year, 1, 2), _nth_monday(year, 7, 3), _nth_monday(year, 9, 3), _nth_monday(year, 10, 2),
    }  # fmt: skip
    for day in sorted(days):  # 振替休日: a holiday on a Sunday moves to the next free weekday
        if day.weekday() == 6:
            substitute = day + timedelta(days=1)
            while substitute in days:
                substitute += timedelta(days=1)
            days.add(substitute)
    for day in sorted(days):  # 国民の休日: a weekday between two holidays
        between = day + timedelta(days=1)
        if between not in days and day + timedelta(days=2) in days and between.weekday() < 5:
            days.add(between)
    return days


def working_days(year: int, month: int, holidays: bool) -> list[date]:
    closed = japanese_holidays(year) if holidays else set()
    if holidays:  # 年末年始: the city's offices close from 29 December to 3 January
        closed |= {date(year, 12, d) for d in range(29, 32)} | {date(year, 1, d) for d in range(1, 4)}
    days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    return [d for d in days if d.weekday() < 5 and d not in closed]


# --- arrivals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    arrival: FloatArray  # seconds from the month's start, sorted
    duration: FloatArray  # seconds of audio
    kind: npt.NDArray[np.str_]
    length_s: float  # seconds in the month
    working_days: int
    busiest_hour: int  # index of the clock hour (from the month's start) with the most audio arriving
    peak_factor: float  # audio in the busiest hour / mean audio per office hour


def _triangular_minutes(rng: np.random.Generator, low: float, mode: float, high: float, n: int) -> FloatArray:
    return rng.triangular(low, mode, high, size=n) * 60.0


def make_month(
    rng: np.random.Generator,
    year: int,
    month: int,
    hours: float,
    peak_factor: float,
    peak_days: int,
    holidays: bool,
) -> Month:
    days = working_days(year, month, holidays)
    # Day weights: ordinary variation, and a few peak days at peak_factor times the ordinary volume.
    weight = rng.lognormal(0.0, 0.2, size=len(days))
    peaks = rng.choice(len(days), size=min(peak_days, len(days)), replace=False)
    weight[peaks] *= peak_factor
    weight /= weight.sum()
    day_start = np.array([(d - date(year, month, 1)).days * 86400.0 for d in days])

    arrivals: list[FloatArray] = []
    durations: list[FloatArray] = []
    kinds: list[npt.NDArray[np.str_]] = []
    for kind, (share, low, mode, high) in KINDS.items():
        mean_s = (low + mode + high) / 3.0 * 60.0
        n = round(hours * 3600.0 * share / mean_s)
        duration = _triangular_minutes(rng, low, mode, high, n)
        duration *= hours * 3600.0 * share / duration.sum()  # the month's hours exactly, by kind
        profile = PHONE_HOURS if kind == "phone" else UPLOAD_HOURS
        hour_of_day = np.array(list(profile), dtype=np.float64)
        hour_p = np.array(list(profile.values()), dtype=np.float64)
        hour_p /= hour_p.sum()
        day = rng.choice(len(days), size=n, p=weight)
        hour = rng.choice(hour_of_day, size=n, p=hour_p)
        arrivals.append(day_start[day] + hour * 3600.0 + rng.uniform(0.0, 3600.0, size=n))
        durations.append(duration)
        kinds.append(np.full(n, kind))
    arrival = np.concatenate(arrivals)
    order = np.argsort(arrival, kind="stable")
    duration = np.concatenate(durations)[order]
    arrival = arrival[order]

    length_s = calendar.monthrange(year, month)[1] * 86400.0
    per_hour = np.bincount((arrival // 3600.0).astype(np.int64), weights=duration, minlength=int(length_s // 3600))
    office_hours = len(days) * 9  # 9:00-18:00
    busiest = int(per_hour.argmax())
    return Month(
        arrival=arrival,
        duration=duration,
        kind=np.concatenate(kinds)[order],
        length_s=length_s,
        working_days=len(days),
        busiest_hour=busiest,
        peak_factor=float(per_hour[busiest] / (duration.sum() / office_hours)),
    )


# --- the queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    workers: int
    utilisation: float  # busy worker-time / (workers x month)
    peak_load: float  # worker-hours of work arriving in the busiest hour / workers
    margin: float  # audio the workers can process in office hours / audio arriving
    wait_mean: float
    wait_p95: float
    wait_max: float
    meeting_wait_p95: float  # 1-hour meetings uploaded in the busiest hour
    meeting_ready_p95: float  # the same: wait + processing
    backlog_h: float  # audio hours not finished at month end
    processed_h: float  # audio hours finished within the month


def simulate(month: Month, workers: int, rtf: float, overhead_s: float) -> Result:
    """First in, first out through ``workers`` identical workers, one job each at a time."""
    service = month.duration * rtf + overhead_s
    free = [0.0] * workers  # when each worker is next free (a heap)
    start = np.empty_like(month.arrival)
    for i, (arrive, busy) in enumerate(zip(month.arrival.tolist(), service.tolist(), strict=True)):
        soonest = heapq.heappop(free)
        begin = arrive if arrive > soonest else soonest
        start[i] = begin
        heapq.heappush(free, begin + busy)
    finish = start + service
    wait = start - month.arrival

    in_month = finish <= month.length_s
    busy = np.minimum(finish, month.length_s) - np.minimum(start, month.length_s)
    lo, hi = (m * 60.0 for m in ONE_HOUR_MEETING)
    hour_start = month.busiest_hour * 3600.0
    peak = (month.arrival >= hour_start) & (month.arrival < hour_start + 3600.0)
    meetings = peak & (month.kind == "meeting") & (month.duration >= lo) & (month.duration <= hi)
    peak_work = float(service[peak].sum()) / 3600.0
    office_capacity_h = workers * month.working_days * 9.0 / rtf
    return Result(
        workers=workers,
        utilisation=float(busy.sum()) / (workers * month.length_s),
        peak_load=peak_work / workers,
        margin=office_capacity_h / (float(month.duration.sum()) / 3600.0),
        wait_mean=float(wait.mean()),
        wait_p95=float(np.percentile(wait, 95)),
        wait_max=float(wait.max()),
        meeting_wait_p95=float(np.percentile(wait[meetings], 95)) if meetings.any() else float("nan"),
        meeting_ready_p95=float(np.percentile((finish - month.arrival)[meetings], 95)) if meetings.any() else 0.0,
        backlog_h=float(month.duration[~in_month].sum()) / 3600.0,
        processed_h=float(month.duration[in_month].sum()) / 3600.0,
    )


# --- output --------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: no such recording in that hour
        return "-"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table(results: list[Result]) -> str:
    head = (
        "| workers | util. (month) | busiest-hour load | margin | wait mean | wait p95 | wait max "
        "| 1-h meeting, busiest hour: wait p95 | ... transcript ready p95 | queued at month end | hours processed |"
    )
    rule = "|" + "|".join("---:" for _ in range(11)) + "|"
    rows = [
        f"| {r.workers} | {r.utilisation:.1%} | {r.peak_load:.0%} | {r.margin:.1f}x | {_clock(r.wait_mean)} "
        f"| {_clock(r.wait_p95)} | {_clock(r.wait_max)} | {_clock(r.meeting_wait_p95)} | {_clock(r.meeting_ready_p95)} "
        f"| {r.backlog_h:.1f} h | {r.processed_h:,.0f} |"
        for r in results
    ]
    return "\n".join([head, rule, *rows])


SCENARIOS: list[tuple[str, float, list[int]]] = [
    ("GPU, large-v3 + pyannote community-1 (planning RTF)", 0.05, [1, 2, 3]),
    ("GPU, pessimistic (no batching, slower GPU)", 0.10, [1, 2, 3]),
    ("CPU, Whisper base + embedded diarizer, measured on a 2-core VM (one worker per 2 cores)", 0.15, [2, 3, 4, 6]),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1870.0, help="audio hours in the month (default 1870)")
    parser.add_argument("--month", default="2026-11", help="YYYY-MM: its working days and holidays")
    parser.add_argument("--rtf", type=float, help="processing seconds per audio second (default: the scenarios)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3], help="numbers of workers to try")
    parser.add_argument("--overhead", type=float, default=10.0, help="seconds per job besides the audio")
    parser.add_argument("--peak-factor", type=float, default=2.0, help="a peak day's volume / an ordinary day's")
    parser.add_argument("--peak-days", type=int, default=2, help="peak days in the month")
    parser.add_argument("--no-holidays", action="store_true", help="every weekday is a working day")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seeds", type=int, default=1, help="also summarise this many months (seed, seed+1, ...)")
    args = parser.parse_args(argv)

    year, month_no = (int(part) for part in args.month.split("-"))
    month = make_month(
        np.random.default_rng(args.seed),
        year,
        month_no,
        args.hours,
        args.peak_factor,
        args.peak_days,
        holidays=not args.no_holidays,
    )
    busiest = date(year, month_no, 1) + timedelta(hours=month.busiest_hour)
    print(
        f"{args.month}: {len(month.arrival):,} recordings, {month.duration.sum() / 3600:,.0f} h of audio on "
        f"{month.working_days} working days; busiest hour {busiest:%m-%d} {month.busiest_hour % 24:02d}:00 "
        f"with {month.peak_factor:.1f}x the mean office-hour volume; overhead {args.overhead:.0f} s per job; "
        f"seed {args.seed}"
    )
    scenarios = [("Given", args.rtf, args.workers)] if args.rtf else SCENARIOS
    for title, rtf, counts in scenarios:
        print(f"\n{title}: RTF {rtf}\n")
        print(table([simulate(month, n, rtf, args.overhead) for n in counts]))
        if args.seeds > 1:
            print(f"\nOver {args.seeds} simulated months (seeds {args.seed}-{args.seed + args.seeds - 1}):\n")
            print(spread(args, rtf, counts))


def spread(args: argparse.Namespace, rtf: float, counts: list[int]) -> str:
    """Median and worst month of the figures that decide the number of workers."""
    year, month_no = (int(part) for part in args.month.split("-"))
    runs: dict[int, list[Result]] = {n: [] for n in counts}
    for seed in range(args.seed, args.seed + args.seeds):
        rng = np.random.default_rng(seed)
        month = make_month(rng, year, month_no, args.hours, args.peak_factor, args.peak_days, not args.no_holidays)
        for n in counts:
            runs[n].append(simulate(month, n, rtf, args.overhead))
    lines = [
        "| workers | wait p95: median / worst month | 1-h meeting, busiest hour, wait p95: median / worst "
        "| ... transcript ready p95: median / worst |",
        "|---:|---:|---:|---:|",
    ]
    for n, results in runs.items():
        cells = []
        for field in ("wait_p95", "meeting_wait_p95", "meeting_ready_p95"):
            values = np.array([getattr(r, field) for r in results], dtype=np.float64)
            values = values[~np.isnan(values)]
            cells.append(f"{_clock(float(np.median(values)))} / {_clock(float(values.max()))}")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

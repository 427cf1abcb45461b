"""利用状況 in a real browser against `kiroku serve`: a manager reads a month of a seeded usage ledger and
every figure shown is checked against values worked out by hand below; months change by the buttons,
the month box and the browser's back button with the month in the URL; an empty month, a leap
February, a month not yet begun and the running month show no NaN; the export links download the
chosen range; a clerk gets 403 from the page and from the API.

One server for the whole module: the ledger is seeded once, straight into the database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.service.conftest import PASSWORD
from tests.service.processes import Process, service_process_env, start_server
from tests.web.conftest import DEPARTMENT, OTHER_DEPARTMENT, log_in, shoot, watch_errors

KITA = DEPARTMENT  # 北区役所 保健福祉課
ZAISEI = OTHER_DEPARTMENT  # 財政局 税務部
ROADS = "建設局 道路部"  # has a monthly cap of 100 h
ROADS_CAP = 100.0
TOKYO = timedelta(hours=9)


@dataclass(frozen=True)
class Entry:
    at: datetime  # UTC
    department: str
    source: str
    kind: str
    seconds: int


def _noon(year: int, month: int, day: int) -> datetime:
    """12:00 in Tokyo (03:00 UTC): the same date in both zones."""
    return datetime(year, month, day, 3, 0, tzinfo=UTC)


def ledger() -> list[Entry]:
    entries = [
        Entry(datetime(2025, 3, 31, 14, 30, tzinfo=UTC), KITA, "web", "meeting", 3600),  # 3/31 23:30 JST: FY2024
        Entry(datetime(2025, 3, 31, 15, 10, tzinfo=UTC), KITA, "web", "negotiation", 1800),  # 4/1 00:10 JST: FY2025
        Entry(datetime(2025, 4, 30, 16, 0, tzinfo=UTC), ZAISEI, "web", "meeting", 1800),  # 5/1 01:00 JST: May
    ]
    for day in range(1, 26):  # April: 北区 5 meetings of 4 h a day on the 1st–25th
        entries += [Entry(_noon(2025, 4, day), KITA, "web", "meeting", 14400)] * 5
    for day in range(1, 31):  # April: 財政局 4 interviews of 1.5 h a day from a meeting-room device
        entries += [Entry(_noon(2025, 4, day), ZAISEI, "device", "interview", 5400)] * 4
    for day in range(1, 16):  # April: 道路部 3 calls of 2 h a day through the API on the 1st–15th
        entries += [Entry(_noon(2025, 4, day), ROADS, "api", "phone", 7200)] * 3
    for day in range(1, 31):  # May: 財政局 10 meetings of 4 h a day, 道路部 2 calls of 2 h a day
        entries += [Entry(_noon(2025, 5, day), ZAISEI, "web", "meeting", 14400)] * 10
        entries += [Entry(_noon(2025, 5, day), ROADS, "api", "phone", 7200)] * 2
    return entries


# Worked out by hand from the ledger above (target 1,870 h a month, the service's default).
# April 2025: 北区 125 × 4 h + 0.5 h = 500.5 h (126); 財政局 120 × 1.5 h = 180 h; 道路部 45 × 2 h = 90 h.
APRIL_HOURS = "770.5 時間"  # 500.5 + 180 + 90
APRIL_PERCENT = "41.2%"  # 770.5 / 1870 = 41.20 %
APRIL_RECORDINGS = "291 件"  # 126 + 120 + 45
APRIL_AVERAGE = "158.9 分"  # 770.5 h × 60 / 291 = 158.87
APRIL_DEPARTMENTS = {
    # name: (hours, share of the month, recordings, average minutes, cap, cap %, state)
    KITA: ("500.5 時間", "65.0%", "126 件", "238.3 分", "—", "—", "上限なし"),  # 500.5 × 60 / 126 = 238.33
    ZAISEI: ("180.0 時間", "23.4%", "120 件", "90.0 分", "—", "—", "上限なし"),
    ROADS: ("90.0 時間", "11.7%", "45 件", "120.0 分", "100 時間", "90.0%", "上限の80%を超えました"),
}
APRIL_DAY_15_CUMULATIVE = "480.5 時間"  # 北区 15 × 20 + 0.5, 財政局 15 × 6, 道路部 15 × 6
# May 2025: 財政局 300 × 4 h + 0.5 h = 1,200.5 h; 道路部 60 × 2 h = 120 h, 120 % of its cap.
MAY_HOURS = "1,320.5 時間"
# Fiscal year 2025 (April 2025 – March 2026): April + May.
FISCAL_LABEL = "令和7年度 (2025年度)"
FISCAL_HOURS = "2,091.0 時間"  # 770.5 + 1,320.5
FISCAL_PERCENT = "9.3%"  # 2,091 / (12 × 1,870 = 22,440) = 9.32 %
# The running month (in Tokyo): two recordings of an hour each, made early on its 1st, so they are
# the running month's for the whole month whatever the day the tests run (see _seed_running_month).
CURRENT_HOURS = "2.0 時間"


@dataclass
class UsageSite:
    base: str
    server: Process
    engine: Any
    running: set[str] = field(default_factory=set)  # running months already given their two recordings


def _tokyo_now() -> datetime:
    """The wall clock in Tokyo (as the server and the browser read it), as a naive datetime."""
    return datetime.now(UTC) + TOKYO


def _month_start_utc(tokyo: datetime) -> datetime:
    """00:30 on the 1st of ``tokyo``'s month in Tokyo, as UTC (15:30 on the previous day)."""
    return datetime(tokyo.year, tokyo.month, 1, 0, 30, tzinfo=UTC) - TOKYO


def _add_recordings(db: Session, ids: dict[str, int | None], entries: list[Entry]) -> list[tuple[Any, Entry]]:
    from service.models import Recording
    from service.usage import new_usage_record

    recordings = []
    for entry in entries:
        department_id = ids[entry.department]
        assert department_id is not None
        recording = Recording(
            department_id=department_id,
            source=entry.source,
            kind=entry.kind,
            duration_seconds=entry.seconds,
            title="利用状況の試験",
        )
        db.add(recording)
        recordings.append((recording, entry))
    db.flush()
    for recording, entry in recordings:
        db.add(new_usage_record(recording, "whisper-base", entry.seconds / 5, at=entry.at))
    return recordings


def _seed_running_month(site: UsageSite) -> str:
    """Give the month running now in Tokyo its two recordings (once), dated at its start: right
    before a test reads the running month, so a month that ended since the module began (a run
    across midnight at a month end) is seeded too. Returns the month, YYYY-MM."""
    from service.accounts import department_named

    now = _tokyo_now()
    month = now.strftime("%Y-%m")
    if month not in site.running:
        with Session(site.engine) as db:
            ids = {KITA: department_named(db, KITA).id}
            _add_recordings(db, ids, [Entry(_month_start_utc(now), KITA, "web", "meeting", 3600)] * 2)
            db.commit()
        site.running.add(month)
    return month


def _seed(engine: Any) -> None:
    from service.accounts import add_user, department_named
    from service.models import Role, TranscriptRecord

    with Session(engine) as db:
        add_user(db, "usage_manager", Role.manager, KITA, PASSWORD, display_name="鈴木 課長")
        add_user(db, "usage_clerk", Role.clerk, KITA, PASSWORD, display_name="山田 花子")
        ids = {name: department_named(db, name).id for name in (KITA, ZAISEI, ROADS)}
        roads = department_named(db, ROADS)
        roads.monthly_cap_hours = ROADS_CAP
        db.add(roads)
        recordings = _add_recordings(db, ids, ledger())
        # Quality in April: 北区 two minutes with 50 of 1,000 characters changed (whisper-base): 5.0 %;
        # 財政局 one with 30 of 400 changed (large-v3): 7.5 %.
        april_kita = [r for r, e in recordings if e.department == KITA and e.at == _noon(2025, 4, 3)][:2]
        april_zaisei = [r for r, e in recordings if e.department == ZAISEI and e.at == _noon(2025, 4, 3)][:1]
        for recording, (machine, edited, model) in [
            (april_kita[0], (1000, 50, "whisper-base")),
            (april_kita[1], (1000, 50, "whisper-base")),
            (april_zaisei[0], (400, 30, "large-v3")),
        ]:
            recording.machine_chars, recording.edited_chars = machine, edited
            db.add(recording)
            assert recording.id is not None
            db.add(TranscriptRecord(recording_id=recording.id, body={"segments": []}, model=model))
        db.commit()


@pytest.fixture(scope="module")
def usage_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UsageSite]:
    """One `kiroku serve` on SQLite for the module, with the ledger above."""
    from service.bootstrap import prepare
    from service.db import engine_for, get_engine
    from service.queue import celery_app
    from service.settings import get_settings

    tmp = tmp_path_factory.mktemp("usage")
    env = {
        "KIROKU_DATABASE_URL": f"sqlite:///{tmp / 'kiroku.db'}",
        "KIROKU_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
        "KIROKU_STORAGE_DIR": str(tmp / "storage"),
        "KIROKU_DIARIZATION": "off",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.delenv("KIROKU_USAGE_TARGET_HOURS", raising=False)  # the default target, 1,870 h
        for cache in (get_settings, celery_app, engine_for):
            cache.cache_clear()
        prepare(get_settings())
        _seed(get_engine())
        server, base = start_server(tmp, service_process_env(env), worker=False)
        site = UsageSite(base, server, get_engine())
        _seed_running_month(site)
        try:
            yield site
        finally:
            server.kill()
            for cache in (get_settings, celery_app, engine_for):
                cache.cache_clear()


@pytest.fixture
def manager_page(usage_site: UsageSite, browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 720}, locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True
    )
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, usage_site.base, "usage_manager", path="/")
    yield page, errors
    context.close()


def _open(page: Any, base: str, month: str | None) -> None:
    page.goto(f"{base}/usage" + (f"?month={month}" if month else ""))
    expect(page.locator("#usage-body")).to_have_attribute("aria-busy", "false")


def _row(page: Any, table: str, header: str) -> list[str]:
    row = page.locator(f"{table} tbody tr", has=page.locator("th", has_text=header))
    expect(row).to_have_count(1)
    return [text.strip() for text in row.locator("th, td").all_inner_texts()]


def _no_broken_numbers(page: Any) -> None:
    text, markup = page.locator("#usage").inner_text(), page.locator("#usage").inner_html()
    for bad in ("NaN", "Infinity", "undefined", "null"):
        assert bad not in text, bad
    for bad in ("NaN", "Infinity", "undefined"):  # e.g. in an SVG coordinate
        assert bad not in markup, bad


def test_a_month_by_hand(usage_site: UsageSite, manager_page: tuple[Any, list[str]], shots: Path) -> None:
    page, errors = manager_page
    _open(page, usage_site.base, "2025-04")
    expect(page.locator("#month-title")).to_have_text("2025年4月")
    expect(page.locator("#used-hours")).to_have_text(APRIL_HOURS)
    expect(page.locator("#used-percent")).to_have_text(APRIL_PERCENT)
    meter = page.get_by_role("progressbar", name="2025年4月の目標に対する利用時間")
    expect(meter).to_have_attribute("aria-valuenow", "41.2")
    expect(meter).to_have_attribute("aria-valuetext", f"目標 1,870 時間 に対して {APRIL_HOURS}({APRIL_PERCENT})")
    facts = page.locator("#month-facts")
    expect(facts).to_contain_text(APRIL_RECORDINGS)
    expect(facts).to_contain_text(APRIL_AVERAGE)
    expect(facts).to_contain_text("目標まで 1,099.5 時間 足りませんでした")  # 1,870 − 770.5: a past month

    # 部署別: the table and a bar per department in proportion to its hours.
    for name, expected in APRIL_DEPARTMENTS.items():
        assert _row(page, ".dept-table", name) == [name, *expected]
    widths = page.locator("#dept .bar").evaluate_all("bars => bars.map(b => Number(b.getAttribute('width')))")
    assert len(widths) == 3 and widths[0] / widths[1] == pytest.approx(500.5 / 180.0)
    expect(page.locator(".dept-table .badge-cap-near")).to_have_text("上限の80%を超えました")
    expect(page.locator("#cap-alerts")).to_contain_text(f"上限の80%を超えた部署: {ROADS}(90.0%)")

    # 経路別 and 種類別 with Japanese labels; a kind nobody used is listed at zero.
    assert _row(page, ".source-table", "画面から")[1:4] == ["500.5 時間", "65.0%", "126 件"]
    assert _row(page, ".source-table", "会議室機器")[1:4] == ["180.0 時間", "23.4%", "120 件"]
    assert _row(page, ".source-table", "API")[1:4] == ["90.0 時間", "11.7%", "45 件"]
    assert _row(page, ".kind-table", "会議")[1:] == ["500.0 時間", "64.9%", "125 件", "240.0 分"]
    assert _row(page, ".kind-table", "交渉")[1:4] == ["30 分", "0.1%", "1 件"]  # the 4/1 00:10 recording, in minutes
    assert _row(page, ".kind-table", "電話")[1] == "90.0 時間"
    assert _row(page, ".kind-table", "面談")[1] == "180.0 時間"

    # The daily chart: 30 days drawn; its table gives the cumulative hours and the target line.
    expect(page.locator("#daily-chart svg[role=img]")).to_have_attribute("aria-labelledby", re.compile(r"\S+ \S+"))
    expect(page.locator("#daily-chart .used-line")).to_have_attribute("data-points", "30")
    expect(page.locator(".daily-table")).to_be_hidden()
    page.get_by_role("button", name="表で見る").first.click()
    expect(page.locator(".daily-table tbody tr")).to_have_count(30)
    assert _row(page, ".daily-table", "4月15日")[2:] == [APRIL_DAY_15_CUMULATIVE, "935.0 時間"]  # 1,870 × 15/30
    assert _row(page, ".daily-table", "4月30日")[1:] == ["6.0 時間", APRIL_HOURS, "1,870.0 時間"]  # only 財政局
    page.get_by_role("button", name="表を閉じる").click()

    # 12 months up to April 2025 and the fiscal year that begins in April.
    expect(page.locator("#trend-chart .trend-bar")).to_have_count(12)
    expect(page.locator("#trend-chart .trend-bar.is-selected")).to_have_attribute("data-month", "2025-04")
    heights = page.locator("#trend-chart .trend-bar").evaluate_all(
        "bars => Object.fromEntries(bars.map(b => [b.dataset.month, Number(b.getAttribute('height'))]))"
    )
    assert heights["2025-04"] / heights["2025-03"] == pytest.approx(770.5)  # March: the 23:30 JST hour only
    assert heights["2024-05"] == 0
    expect(page.locator("#fiscal-label")).to_have_text(FISCAL_LABEL)
    expect(page.locator("#fiscal-used")).to_have_text(FISCAL_HOURS)
    expect(page.locator("#fiscal-percent")).to_have_text(FISCAL_PERCENT)
    expect(page.locator(".fiscal-table tbody tr")).to_have_count(12)
    assert _row(page, ".fiscal-table", "2025年5月")[1:] == ["1,320.5 時間", FISCAL_HOURS]

    # 修正率 per department and model.
    assert _row(page, ".quality-table", KITA)[1:] == ["whisper-base", "5.0%", "2 件"]
    assert _row(page, ".quality-table", ZAISEI)[1:] == ["large-v3", "7.5%", "1 件"]

    # Export: the 12 months ending in the month shown, then a chosen range.
    csv_link, xlsx_link = page.locator("#export-csv"), page.locator("#export-xlsx")
    assert parse_qs(urlsplit(csv_link.get_attribute("href")).query) == {
        "view": ["department"],
        "start": ["2024-05"],
        "end": ["2025-04"],
        "format": ["csv"],
    }
    assert urlsplit(xlsx_link.get_attribute("href")).path == "/api/v1/usage/export"
    assert parse_qs(urlsplit(xlsx_link.get_attribute("href")).query)["format"] == ["xlsx"]
    _no_broken_numbers(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, shots, "20-usage")
    page.screenshot(path=str(shots / "20-usage-full.png"), full_page=True)

    page.select_option("#export-view", "monthly")
    page.fill("#export-start", "2024-03")
    page.fill("#export-end", "2025-05")  # 15 months: refused before anything is asked of the server
    expect(page.locator("#export-note")).to_have_text("期間は最大13か月です。")
    expect(csv_link).to_have_attribute("aria-disabled", "true")
    assert csv_link.get_attribute("href") is None
    page.fill("#export-start", "2025-03")
    expect(page.locator("#export-note")).to_contain_text("2025年3月から2025年5月まで(3か月)の月別の合計")
    with page.expect_download() as download:
        csv_link.click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["月", "利用時間", "件数", "目標時間"],
        ["2025-03", "1.0", "1", "1870.0"],
        ["2025-04", "770.5", "291", "1870.0"],
        ["2025-05", "1320.5", "361", "1870.0"],
    ]
    assert errors == []


def test_months_in_the_url(usage_site: UsageSite, manager_page: tuple[Any, list[str]], shots: Path) -> None:
    page, errors = manager_page
    base = usage_site.base
    _open(page, base, "2025-04")
    page.get_by_role("link", name="2025年5月 →", exact=True).click()
    expect(page).to_have_url(f"{base}/usage?month=2025-05")
    expect(page.locator("#used-hours")).to_have_text(MAY_HOURS)
    assert _row(page, ".dept-table", ROADS)[1:] == [
        "120.0 時間", "9.1%", "60 件", "120.0 分", "100 時間", "120.0%", "上限に達しました",
    ]  # fmt: skip
    expect(page.locator("#cap-alerts")).to_contain_text(f"上限に達した部署: {ROADS}(120.0%)")
    page.go_back()
    expect(page).to_have_url(f"{base}/usage?month=2025-04")
    expect(page.locator("#used-hours")).to_have_text(APRIL_HOURS)

    # The month box: March 2025 is in the previous fiscal year; a reload keeps the month (bookmarks).
    page.fill("#month-input", "2025-03")
    page.get_by_role("button", name="表示", exact=True).click()
    expect(page).to_have_url(f"{base}/usage?month=2025-03")
    expect(page.locator("#used-hours")).to_have_text("1.0 時間")
    page.reload()
    expect(page.locator("#month-title")).to_have_text("2025年3月")
    expect(page.locator("#fiscal-label")).to_have_text("令和6年度 (2024年度)")
    expect(page.locator("#fiscal-used")).to_have_text("1.0 時間")
    page.set_viewport_size({"width": 760, "height": 1000})  # a narrow window: one column
    page.screenshot(path=str(shots / "23-usage-narrow.png"), full_page=True)
    assert errors == []


def test_empty_leap_future_and_running_months(
    usage_site: UsageSite, manager_page: tuple[Any, list[str]], shots: Path
) -> None:
    page, errors = manager_page
    base = usage_site.base
    _open(page, base, "2024-02")  # a leap February with no usage
    expect(page.locator("#used-hours")).to_have_text("0.0 時間")
    expect(page.locator("#used-percent")).to_have_text("0.0%")
    expect(page.locator("#summary")).to_contain_text("この月の利用はありませんでした。")
    expect(page.locator("#dept")).to_contain_text("利用した部署はありません")
    expect(page.locator("#source .usage-empty")).to_be_visible()
    expect(page.locator("#quality .usage-empty")).to_be_visible()
    expect(page.locator(".daily-table tbody tr")).to_have_count(29)
    expect(page.locator(".trend-bar")).to_have_count(12)
    _no_broken_numbers(page)
    page.screenshot(path=str(shots / "21-usage-empty.png"), full_page=True)

    _seed_running_month(usage_site)
    now = _tokyo_now()
    upcoming = date(now.year + (now.month == 12), now.month % 12 + 1, 1).strftime("%Y-%m")
    _open(page, base, upcoming)
    expect(page.locator("#summary")).to_contain_text("まだ始まっていない月です。")
    expect(page.locator("#daily-chart .used-line")).to_have_count(0)
    _no_broken_numbers(page)

    # The running month (no month in the URL): partly drawn, with a projection to the month end.
    # The clock is read before and after the page is: a midnight in between allows either day.
    _seed_running_month(usage_site)
    before = _tokyo_now()
    page.get_by_role("link", name="今月").click()
    expect(page).to_have_url(f"{base}/usage")
    expect(page.locator("#usage-body")).to_have_attribute("aria-busy", "false")
    after = _tokyo_now()
    if (before.year, before.month) != (after.year, after.month):  # a month ended meanwhile: read it again
        _seed_running_month(usage_site)
        page.reload()
        expect(page.locator("#usage-body")).to_have_attribute("aria-busy", "false")
        before = after = _tokyo_now()
    expect(page.locator("#month-title")).to_have_text(f"{after.year}年{after.month}月")
    expect(page.locator("#used-hours")).to_have_text(CURRENT_HOURS)
    days = "|".join(sorted({str(before.day), str(after.day)}))
    expect(page.locator("#daily-chart .used-line")).to_have_attribute("data-points", re.compile(f"^({days})$"))
    expect(page.locator("#daily-chart .projection-line")).to_have_count(1)
    expect(page.locator("#month-facts")).to_contain_text(re.compile(r"月末の見込み[\d,]+\.\d 時間"))
    expect(page.locator("#month-facts")).to_contain_text(re.compile(r"1日あたり [\d,]+\.\d 時間"))
    _no_broken_numbers(page)
    shoot(page, shots, "22-usage-this-month")
    assert errors == []


def test_clerks_get_403(usage_site: UsageSite, browser: Any) -> None:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    log_in(page, usage_site.base, "usage_clerk", path="/")
    expect(page.locator(".site-nav a", has_text="利用状況")).to_have_count(0)
    response = page.goto(f"{usage_site.base}/usage?month=2025-04")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("管理職・管理者の方だけ")
    expect(page.locator("main")).not_to_contain_text("時間")  # no figure leaks into the page
    api = page.request.get(f"{usage_site.base}/api/v1/usage/dashboard?month=2025-04")
    assert api.status == 403
    export = page.request.get(f"{usage_site.base}/api/v1/usage/export?view=monthly&start=2025-04&end=2025-04")
    assert export.status == 403
    context.close()


def test_the_ledger_is_what_the_figures_say(usage_site: UsageSite) -> None:
    """The seeded ledger itself, so the hand-computed figures above cannot drift from it."""
    from service.db import get_engine
    from service.models import UsageRecord

    with Session(get_engine()) as db:
        records = db.exec(select(UsageRecord).where(UsageRecord.month == "2025-04")).all()
    assert len(records) == 291 and sum(r.audio_seconds for r in records) == 770.5 * 3600

"""Every page (the admin console too) from a phone's width to a desk's, in a real browser: at
390×844, 768×1024 and 1280×800 nothing scrolls sideways (``scrollWidth <= innerWidth``), the console
stays clean, and the narrow layouts work: the navigation behind a menu button, the editor's side
panel in a drawer, the upload form in one column. Screenshots of every page at every size go to
``$KIROKU_SCREENSHOTS/responsive``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.web.conftest import DEPARTMENT, Site, log_in, watch_errors
from tests.web.transcripts import meeting, store_finished

pytestmark = pytest.mark.slow

VIEWPORTS = [(390, 844), (768, 1024), (1280, 800)]


def _seed(site: Site) -> int:
    """A finished meeting with audio and a publication copy, this month's usage (minutes, not hours),
    and an administrator (who sees every page, the admin console too)."""
    from service.accounts import add_user
    from service.models import Recording, Role, User, VoiceEmbedding, VoiceProfile
    from service.search import index_recording
    from service.usage import new_usage_record

    title = "予算の打合せ(長いタイトルの記録)"
    recording_id = store_finished(site.engine, site.storage, "web_clerk", title, meeting(40), SINGLE)
    with Session(site.engine) as db:
        add_user(db, "web_admin", Role.admin, DEPARTMENT, PASSWORD, display_name="管理 太郎")
        assert index_recording(db, recording_id)
        clerk = db.exec(select(User).where(User.name == "web_clerk")).one()
        now = datetime.now(UTC)
        for kind, seconds in (("meeting", 25 * 60), ("phone", 17 * 60)):
            recording = Recording(
                department_id=clerk.department_id, kind=kind, duration_seconds=seconds, title="短い録音"
            )
            db.add(recording)
            db.flush()
            db.add(new_usage_record(recording, "whisper-base", seconds / 5, at=now))
        voice = VoiceProfile(
            department_id=clerk.department_id,
            name="保健福祉課長",
            title="北区役所 保健福祉課長",
            consent="2026年4月1日、本人が書面で同意 (同意書は総務課で保管、期限なし、撤回は総務課へ)",
            enrolled_by_id=clerk.id,
        )
        db.add(voice)
        db.flush()
        db.add(VoiceEmbedding(profile_id=voice.id or 0, vector=[0.1, 0.2], encoder="test"))
        db.commit()
    client = api_login(site.base, "web_clerk", PASSWORD)
    assert client.post(f"/api/v1/recordings/{recording_id}/publication").status_code == 201
    return recording_id


def _pages(recording_id: int) -> list[tuple[str, str, str]]:
    """(name, path, what shows the page is ready)."""
    return [
        ("list", "/", "#rows tr"),
        ("upload", "/upload", "#dictionaries input, #dictionaries .hint"),
        ("editor", f"/recordings/{recording_id}", "body[data-ready='true']"),
        ("review", f"/recordings/{recording_id}", "body[data-ready='true']"),
        ("publication", f"/recordings/{recording_id}/publication", "#pub-work:not([hidden]), #pub-start:not([hidden])"),
        ("search", "/search?q=%E4%BA%88%E7%AE%97", "#s-results > li"),
        ("dictionaries", "/dictionaries", "#dict-list button"),
        ("usage", "/usage", "#usage-body[aria-busy='false']"),
        ("admin", "/admin", "body[data-ready='true']"),
        ("admin-voices", "/admin/voices", "body[data-ready='true']"),
        ("admin-templates", "/admin/templates", "#tpl-form"),
    ]


def _overflow(page: Any) -> dict[str, Any]:
    """The page's width against the window's, and the widest elements sticking out (for the message)."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const width = window.innerWidth;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (!r.width || r.right <= width + 1) continue;
                out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} → ${Math.round(r.right)}`);
            }
            return {scroll: document.documentElement.scrollWidth, inner: width, out: out.slice(0, 8)};
        }"""
    )
    return result


def test_every_page_fits_every_width(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = _seed(site)
    folder = shots / "responsive"
    folder.mkdir(exist_ok=True)
    failures: list[str] = []
    for width, height in VIEWPORTS:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="ja-JP", timezone_id="Asia/Tokyo"
        )
        page = context.new_page()
        errors = watch_errors(page)
        log_in(page, site.base, "web_admin")
        for name, path, ready in _pages(recording_id):
            page.goto(f"{site.base}{path}")
            page.wait_for_selector(ready, state="attached", timeout=20_000)
            if name == "review":
                page.click("#review-open")
                expect(page.locator("#review-bar")).to_be_visible()
            page.wait_for_load_state("networkidle")
            seen = _overflow(page)
            if seen["scroll"] > seen["inner"]:
                failures.append(f"{name} at {width}px scrolls sideways: {seen}")
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=name not in ("editor", "review"))
        context.close()
        failures += [f"{width}px: {e}" for e in errors]
    assert failures == []


def test_narrow_navigation_drawer_and_upload(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "狭い画面の確認", meeting(12), SINGLE)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk")

    # The navigation sits behind one menu button, which opens and closes it (Esc too).
    menu = page.get_by_role("button", name="メニュー")
    nav = page.get_by_role("navigation", name="メインメニュー")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="辞書")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="辞書")).to_be_visible()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="辞書")).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    nav.get_by_role("link", name="アップロード").click()
    page.wait_for_url(f"{site.base}/upload")

    # The upload form is one column: the metadata card sits below the file card, as wide.
    files = page.locator("#files-title").locator("xpath=..").bounding_box()
    meta = page.locator("#meta-title").locator("xpath=..").bounding_box()
    assert files and meta and meta["y"] >= files["y"] + files["height"] - 1, (files, meta)
    assert abs(meta["width"] - files["width"]) < 2

    # The editor: the text column takes the width; the side panel is a drawer opened by a button.
    page.goto(f"{site.base}/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    text = page.locator(".utt-text").first.bounding_box()
    assert text and text["width"] > 300, text
    side = page.locator(".ed-side")
    expect(side).to_be_hidden()
    drawer = page.get_by_role("button", name="記録の情報")
    expect(drawer).to_have_attribute("aria-expanded", "false")
    drawer.click()
    expect(side).to_be_visible()
    expect(page.locator("#speakers input").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(side).to_be_hidden()
    expect(drawer).to_be_focused()
    page.screenshot(path=str(shots / "responsive-editor-drawer-closed.png"))
    context.close()
    assert errors == []

"""Edits survive the browser going away: typed while the server cannot confirm a save, the browser
closed without saving, the same browser profile opened again — the edits are offered back and, once
the clerk takes them, saved. Edits the server confirmed are not offered again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished

pytestmark = pytest.mark.slow

ADDED = "(閉じる前の追記)"


def _profile(browser: Any, folder: Path) -> Any:
    """A browser with a profile on disk, as a clerk's own browser keeps one between runs."""
    return browser.browser_type.launch_persistent_context(
        str(folder),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 800},
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
    )


def test_edits_are_offered_back_after_the_browser_closed(
    site_factory: Any, browser: Any, shots: Path, tmp_path: Path
) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "閉じても残る", meeting(8))
    url = f"{site.base}/recordings/{recording_id}"
    profile = tmp_path / "profile"

    first = _profile(browser, profile)
    page = first.pages[0] if first.pages else first.new_page()
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    # The server never confirms: every save is cut off, as when the network or the browser goes first.
    page.route("**/minutes", lambda route: route.abort() if route.request.method == "PUT" else route.continue_())
    row = page.locator(".utt-text").nth(3)
    before = row.inner_text()
    row.click()
    page.keyboard.press("End")
    page.keyboard.type(ADDED)
    page.wait_for_selector("body[data-local-draft='kept']")
    first.close()  # closed without saving

    client = api_login(site.base, "web_clerk", PASSWORD)
    saved = client.get(f"/api/v1/recordings/{recording_id}/minutes").json()
    assert saved["revision"] == 0 and ADDED not in saved["transcript"]["segments"][3]["text"]

    second = _profile(browser, profile)
    page = second.pages[0] if second.pages else second.new_page()
    errors = watch_errors(page)
    page.goto(url)
    page.wait_for_selector("body[data-ready='true']")
    banner = page.locator("#banner")
    expect(banner).to_contain_text("保存されていない編集が、このブラウザに残っています")
    expect(page.locator("#ed-revision")).to_have_text("文字起こし(未編集)")  # named as on the publication page
    expect(page.locator(".utt-text").nth(3)).to_have_text(before)  # the server's version until the clerk chooses
    shoot(page, shots, "25-local-draft-offered")
    banner.get_by_role("button", name="残っている編集を戻す").click()
    expect(page.locator(".utt-text").nth(3)).to_have_text(before + ADDED)
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)
    expect(page.locator("#ed-revision")).to_have_text("第1版")
    saved = client.get(f"/api/v1/recordings/{recording_id}/minutes").json()
    assert saved["revision"] == 1 and saved["transcript"]["segments"][3]["text"] == before + ADDED
    page.wait_for_selector("body[data-local-draft='none']")

    page.reload()  # confirmed by the server: nothing is offered any more
    page.wait_for_selector("body[data-local-draft='none']")
    expect(banner).not_to_contain_text("保存されていない編集")
    second.close()
    assert errors == []


def test_a_kept_draft_can_be_discarded(site_factory: Any, browser: Any, tmp_path: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "破棄する", meeting(4))
    profile = tmp_path / "profile"
    first = _profile(browser, profile)
    page = first.pages[0] if first.pages else first.new_page()
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    page.route("**/minutes", lambda route: route.abort() if route.request.method == "PUT" else route.continue_())
    page.locator(".utt-text").first.click()
    page.keyboard.type("要らない")
    page.wait_for_selector("body[data-local-draft='kept']")
    first.close()

    second = _profile(browser, profile)
    page = second.pages[0] if second.pages else second.new_page()
    page.goto(f"{site.base}/recordings/{recording_id}")
    page.wait_for_selector("body[data-local-draft='offered']")
    page.locator("#banner").get_by_role("button", name="破棄する").click()
    page.wait_for_selector("body[data-local-draft='none']")
    page.reload()
    page.wait_for_selector("body[data-local-draft='none']")
    expect(page.locator("#banner")).not_to_contain_text("保存されていない編集")
    expect(page.locator(".utt-text").first).not_to_contain_text("要らない")
    second.close()

"""公開用 in a real browser: the copy is made from the editor's link, a phone number and a マイナンバー-like
number are candidates (an amount and a date are not), confirming them and a range selected by hand
masks them as ■ in the preview, another clerk's save is a conflict that loses nothing, the txt
export is masked, and the minutes themselves still hold the numbers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import store_finished
from transcriber.transcript import Segment, Speaker, Transcript

pytestmark = pytest.mark.slow

PHONE = "06-6208-7111"
MYNUMBER = "1234 5678 9012"
TEXTS = [
    "それでは相談の記録を始めます。",
    f"折り返しの電話番号は{PHONE}です。",
    f"マイナンバーは{MYNUMBER}と伺いました。",
    "手数料は1,200円で、令和7年4月1日から受け付けます。",
    "北浜の件は来週に回答します。",
]
EXPECTED_CONSOLE = ("status of 409",)  # the conflict the test provokes


def transcript() -> dict[str, Any]:
    segments = [Segment(start=5.0 * k, end=5.0 * k + 4, speaker=f"S{k % 2 + 1}", text=t) for k, t in enumerate(TEXTS)]
    body = Transcript(duration=25.0, speakers=[Speaker(id="S1"), Speaker(id="S2")], segments=segments, model="test")
    return body.to_json_dict()


def select_text(page: Any, target: str, text: str) -> None:
    """Select ``text`` inside the body's field ``target`` as a mouse drag would."""
    page.evaluate(
        """([target, text]) => {
            const field = document.querySelector(`[data-target="${target}"]`);
            const walker = document.createTreeWalker(field, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(text);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + text.length);
                const selection = document.getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
                return;
            }
            throw new Error(`${text} is not in ${target}`);
        }""",
        [target, text],
    )


def test_publication_page(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "窓口相談の記録", transcript())
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.click("#publication-link")
    page.wait_for_url(f"{site.base}/recordings/{recording_id}/publication")
    errors.clear()  # the editor's own messages are the editor tests' business
    expect(page.locator(".pub-note")).to_contain_text("元の議事録は変わりません")
    expect(page.locator("#pub-start")).to_be_visible()
    shoot(page, shots, "41-publication-start")
    page.click("#pub-create")

    # Candidates: the phone number and the 12-digit number, each with its kind; not the amount or the date.
    items = page.locator("#cand-list > li")
    phone = items.filter(has_text=PHONE)
    mynumber = items.filter(has_text=MYNUMBER)
    expect(phone.locator(".cand-kind")).to_have_text("電話番号", timeout=30_000)
    expect(mynumber.locator(".cand-kind")).to_have_text("マイナンバー")
    expect(phone.locator(".cand-status")).to_have_text("未確認")
    listed = " ".join(items.all_inner_texts())
    assert "1,200" not in listed and "令和" not in listed and "4月1日" not in listed
    original = page.locator('[data-target="segment.1"]')
    expect(original.locator("mark")).to_have_text([PHONE])

    # Keyboard: on the phone number, Y (隠す); down to the 12-digit number, Y.
    phone.click()
    expect(phone).to_be_focused()
    page.keyboard.press("y")
    expect(phone.locator(".cand-status")).to_have_text("隠す")
    expect(phone.locator(".cand-unsaved")).to_be_visible()
    mynumber.focus()
    page.keyboard.press("y")
    expect(mynumber.locator(".cand-status")).to_have_text("隠す")
    expect(page.locator("#pub-state")).to_have_text("保存していない変更があります")
    expect(page.locator("[data-format=txt]")).to_be_disabled()  # export what is saved only

    # A range by hand: select 北浜 in the text and press M.
    select_text(page, "segment.4", "北浜")
    expect(page.locator("#mask-selection")).to_be_enabled()
    page.keyboard.press("m")
    manual = items.filter(has_text="北浜")
    expect(manual.locator(".cand-kind")).to_have_text("手で追加")
    # Another range by hand, then removed again with Delete before saving.
    select_text(page, "segment.4", "来週")
    page.click("#mask-selection")
    expect(items.filter(has_text="来週")).to_be_focused()
    page.keyboard.press("Delete")
    expect(items.filter(has_text="来週")).to_have_count(0)
    page.keyboard.press("Control+s")
    expect(page.locator("#pub-state")).to_have_text("保存済み")
    expect(phone.locator(".cand-unsaved")).to_have_count(0)

    # The preview: the kept spans as ■ of the same length, ordinary numbers as written.
    page.click("#view-preview")
    expect(page.locator('[data-target="segment.1"]')).to_have_text(f"折り返しの電話番号は{'■' * 12}です。")
    expect(page.locator('[data-target="segment.2"]')).to_have_text("マイナンバーは■■■■ ■■■■ ■■■■と伺いました。")
    expect(page.locator('[data-target="segment.3"]')).to_have_text(TEXTS[3])
    expect(page.locator('[data-target="segment.4"]')).to_have_text("■■の件は来週に回答します。")
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, shots, "42-publication-preview")

    # Another clerk saves first: this clerk's save is refused, nothing is lost, and it saves on top.
    other = api_login(site.base, "web_clerk2", PASSWORD)
    base = f"/api/v1/recordings/{recording_id}/publication"
    theirs = other.get(base)
    saved_by_them = other.put(base, json={"add": [{"text": "始めます"}]}, headers={"If-Match": theirs.headers["ETag"]})
    assert saved_by_them.status_code == 200, saved_by_them.text
    page.click("#view-original")
    manual.click()
    page.keyboard.press("Delete")
    page.click("#pub-save")
    expect(page.locator("#pub-banner")).to_contain_text("他の人が先にこの公開用を保存したため、保存できませんでした")
    expect(page.locator("#pub-state")).to_have_text("保存できませんでした")
    shoot(page, shots, "43-publication-conflict")
    page.click("#pub-banner-action")
    expect(items.filter(has_text="始めます")).to_have_count(1)  # their range is shown
    expect(items.filter(has_text="北浜")).to_have_count(0)  # and this clerk's removal is still there
    page.click("#pub-save")
    expect(page.locator("#pub-state")).to_have_text("保存済み")
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, shots, "44-publication-candidates")
    # What the page previews is what the server will write.
    page.click("#view-preview")
    server = [s["text"] for s in other.get(base).json()["preview"]["segments"]]
    shown = [page.locator(f'[data-target="segment.{k}"]').inner_text() for k in range(len(TEXTS))]
    assert shown == server and server[0] == "それでは相談の記録を■■■■。" and server[4] == TEXTS[4]

    # The txt export is masked; the minutes keep every number.
    with page.expect_download() as download:
        page.click("[data-format=txt]")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "■" * 12 in exported and PHONE not in exported and MYNUMBER not in exported
    assert "1,200円" in exported and "令和7年4月1日" in exported
    assert "北浜の件" in exported  # the hand-added range was removed again
    minutes = other.get(f"/api/v1/recordings/{recording_id}/minutes").json()
    texts = [s["text"] for s in minutes["transcript"]["segments"]]
    assert texts == TEXTS

    # Another department's clerk cannot open it.
    outsider = site.context(browser).new_page()
    log_in(outsider, site.base, "other_clerk")
    response = outsider.goto(f"{site.base}/recordings/{recording_id}/publication")
    assert response is not None and response.status == 404
    expect(outsider.locator("h1")).to_have_text("記録が見つかりません")
    context.close()
    assert [e for e in errors if not any(x in e for x in EXPECTED_CONSOLE)] == [], errors
    assert not re.search(r"pageerror", " ".join(errors))

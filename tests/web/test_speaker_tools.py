"""Speaker tools in the editor: Backspace between two speakers asks which one keeps the joined row,
one speaker merged into another, several rows given to a speaker at once (Shift+click), and
話者を判定し直す: the relabel job started with a count and followed, refused once minutes are saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from service.models import Job
from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished

pytestmark = pytest.mark.slow


def test_merging_rows_and_speakers(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "話者の整理", meeting(12), SINGLE)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    texts = page.locator(".utt-text")
    speakers = page.locator(".utt-speaker")
    # Unnamed speakers as the record calls them (in order of first speaking), not S1, S2.
    expect(speakers.nth(0)).to_have_text("発言者A")
    expect(speakers.nth(1)).to_have_text("発言者B")

    # Backspace at the start of S2's row: the two speakers differ, so the clerk is asked.
    first, second = texts.nth(0).inner_text(), texts.nth(1).inner_text()
    texts.nth(1).click()
    page.keyboard.press("Home")
    page.keyboard.press("Backspace")
    menu = page.locator("#popover")
    expect(menu).to_contain_text("どちらの話者にしますか")
    shoot(page, shots, "25-merge-which-speaker")
    menu.get_by_role("menuitem", name="発言者B(後の発言)").click()
    expect(texts).to_have_count(11)
    expect(texts.nth(0)).to_have_text(first + second)
    expect(speakers.nth(0)).to_have_attribute("data-spk", "S2")
    # Saved, S2 speaks first: the letters follow, as in the record (S2 A, S3 B, S4 C, S1 D).
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)
    expect(speakers.nth(0)).to_have_text("発言者A")

    # Shift+click: every row from the last speaker button chosen to this one, in one go.
    speakers.nth(2).click()
    page.keyboard.press("Escape")
    speakers.nth(5).click(modifiers=["Shift"])
    expect(menu).to_contain_text("選んだ 4 件の発言の話者を変えます")
    expect(page.locator(".utt.spk-selected")).to_have_count(4)
    menu.get_by_role("menuitemradio", name="発言者D").click()
    for n in range(2, 6):
        expect(speakers.nth(n)).to_have_attribute("data-spk", "S1")
    expect(page.locator(".utt.spk-selected")).to_have_count(0)

    # S4 merged into S3: S4 is gone from the rows and from the panel.
    page.select_option("#merge-from", "S4")
    page.select_option("#merge-into", "S3")
    page.click("#merge-speakers")
    expect(page.locator(".utt-speaker[data-spk='S4']")).to_have_count(0)
    expect(page.locator("#speaker-count")).to_have_text("(3)")
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)
    saved = api_login(site.base, "web_clerk", PASSWORD).get(f"/api/v1/recordings/{recording_id}/minutes").json()
    segments = saved["transcript"]["segments"]
    assert len(segments) == 11 and segments[0]["speaker"] == "S2"
    assert [s["speaker"] for s in segments[2:6]] == ["S1"] * 4
    assert "S4" not in {s["speaker"] for s in segments} | {s["id"] for s in saved["transcript"]["speakers"]}

    # Minutes are saved now: re-detecting speakers is refused, and says why.
    expect(page.locator("#redetect")).to_be_disabled()
    expect(page.locator("#redetect-note")).to_contain_text("編集を保存した後は、話者を判定し直せません")
    context.close()
    assert errors == []


def test_redetect_speakers_starts_the_relabel_and_follows_it(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)  # no worker: the job stays queued, as on a busy day
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "話者の判定", meeting(8), SINGLE)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#redetect")).to_be_enabled()
    expect(page.locator("#redetect-count")).to_have_value("4")  # the speakers found now
    page.select_option("#redetect-count", "3")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#redetect")
    expect(page.locator("#redetect-status")).to_have_text("順番を待っています…")
    expect(page.locator("#redetect")).to_be_disabled()
    expect(page.locator(".utt-text").first).to_have_attribute("contenteditable", "false")  # no edits meanwhile
    shoot(page, shots, "25-redetect-waiting")
    with Session(site.engine) as db:
        job = db.exec(select(Job).where(Job.recording_id == recording_id).order_by(col(Job.id).desc())).first()
    assert job is not None and job.kind == "relabel" and (job.min_speakers, job.max_speakers) == (3, 3)
    context.close()
    assert errors == []

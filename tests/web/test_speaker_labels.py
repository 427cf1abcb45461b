"""A clerk reads 「○発言者A」 in the Word record and finds 発言者A in the editor: every place the editor
(and the 公開用 page) names a speaker nobody named uses the record's label, never the transcript's
id (S3). Naming one speaker shows the name at once, and once saved re-letters the others exactly as
the next Word file does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import store_finished
from transcriber.transcript import Segment, Speaker, Transcript

pytestmark = pytest.mark.slow

# S3 speaks first; S1 is named. The record: 発言者A (S3), 議長 (S1), 発言者B (S2).
SAID = [
    ("S3", "それでは説明を始めます。"),
    ("S1", "議題に入ります。"),
    ("S2", "質問があります。"),
    ("S3", "お答えします。"),
    ("S2", "ありがとうございました。"),
]


def transcript() -> dict[str, Any]:
    segments = [Segment(start=4.0 * k, end=4.0 * k + 3, speaker=who, text=text) for k, (who, text) in enumerate(SAID)]
    speakers = [Speaker(id="S1", name="議長"), Speaker(id="S2"), Speaker(id="S3")]
    return Transcript(duration=20.0, speakers=speakers, segments=segments, model="test").to_json_dict()


def record_speakers(page: Any, tmp_path: Path, name: str) -> list[str]:
    """The speaker of each 「○名前　…」 paragraph of the Word file the editor exports."""
    with page.expect_download() as download:
        page.click("#export-docx-top")
    path = tmp_path / f"{name}.docx"
    download.value.save_as(path)
    paragraphs = [p.text for p in Document(str(path)).paragraphs if p.text.startswith("○")]
    return [p[1:].split("\u3000")[0] for p in paragraphs]


def test_unnamed_speakers_are_called_as_in_the_record(
    site_factory: Any, browser: Any, shots: Path, tmp_path: Path
) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "発言者の呼び方", transcript())
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    speakers = page.locator(".utt-speaker")

    # The rows say what the Word file says, row by row (one paragraph per row here).
    expect(speakers).to_have_text(["発言者A", "議長", "発言者B", "発言者A", "発言者B"])
    assert record_speakers(page, tmp_path, "before") == speakers.all_inner_texts()
    # The panel: each name field is labelled as the record calls the speaker, for eyes and screen readers.
    panel = page.locator("#speakers")
    expect(panel.get_by_label("発言者A", exact=True)).to_have_attribute("data-speaker-id", "S3")
    expect(panel.get_by_label("発言者B", exact=True)).to_have_attribute("data-speaker-id", "S2")
    expect(page.locator("#merge-from option[value='S3']")).to_have_text("発言者A")
    panel.scroll_into_view_if_needed()
    shoot(page, shots, "speaker-labels-editor")

    # The speaker menu, by keyboard: the row's own speaker is checked and focused, under its label.
    speakers.nth(2).focus()
    page.keyboard.press("Enter")
    menu = page.locator("#popover")
    expect(menu.get_by_role("menuitemradio", name="発言者B")).to_be_focused()
    expect(menu.get_by_role("menuitemradio", name="発言者B")).to_have_attribute("aria-checked", "true")
    expect(menu.get_by_role("menuitemradio", name="発言者A")).to_have_attribute("aria-checked", "false")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(speakers.nth(2)).to_be_focused()

    # Naming 発言者A: the name at once wherever S3 speaks; saved, S2 is the first one left unnamed,
    # 発言者A on screen as in the next Word file.
    panel.get_by_label("発言者A", exact=True).fill("田中課長")
    expect(speakers.nth(0)).to_have_text("田中課長")
    expect(speakers.nth(3)).to_have_text("田中課長")
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)
    expect(speakers).to_have_text(["田中課長", "議長", "発言者A", "田中課長", "発言者A"])
    expect(panel.get_by_label("発言者A", exact=True)).to_have_attribute("data-speaker-id", "S2")
    expect(panel.locator("[data-speaker-id='S3']")).to_be_focused()  # the clerk's typing was not disturbed
    expect(page.locator("#merge-from option[value='S2']")).to_have_text("発言者A")
    assert record_speakers(page, tmp_path, "after") == speakers.all_inner_texts()

    # 公開用: the utterances there name the speakers as the record does too.
    page.click("#publication-link")
    page.wait_for_url(f"{site.base}/recordings/{recording_id}/publication")
    errors.clear()  # the editor's own messages are the editor tests' business
    page.click("#pub-create")
    pub_speakers = page.locator(".pub-utt .pub-speaker")
    # Making the copy looks for personal data first: allow it the time the publication tests do.
    expect(pub_speakers).to_have_text(["田中課長", "議長", "発言者A", "田中課長", "発言者A"], timeout=30_000)
    shoot(page, shots, "speaker-labels-publication")
    context.close()
    assert errors == []

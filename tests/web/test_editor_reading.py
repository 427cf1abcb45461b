"""Reading a transcript against the recording: the word being played is highlighted (and on screen),
and the words to check are chosen by a threshold the clerk sets with a slider (kept in this browser)
and shaded by how doubtful each one is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from service.peaks import store_peaks
from tests.conftest import SINGLE
from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished

pytestmark = pytest.mark.slow

PLAYING_WORD = """() => {
    const highlight = CSS.highlights.get("playing-word");
    if (!highlight || !highlight.size) return null;
    const range = [...highlight][0];
    const row = range.startContainer.parentElement.closest(".utt");
    const box = document.getElementById("transcript").getBoundingClientRect();
    const r = range.getBoundingClientRect();
    return {
        text: range.toString(),
        row: row.dataset.uid,
        playingRow: document.querySelector(".utt.playing")?.dataset.uid,
        visible: r.top >= box.top && r.bottom <= box.bottom,
    };
}"""


def test_the_word_being_played_is_highlighted(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "語の追跡", meeting(30), SINGLE)
    assert store_peaks(site.storage, f"audio/web-test-語の追跡{SINGLE.suffix}")  # as the worker leaves them
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector(".overview[data-waveform='true']")  # the overview draws the stored peaks
    assert page.evaluate(PLAYING_WORD) is None

    # Playing: the word under the play head is marked, inside the utterance being played, on screen.
    page.click("#play")
    page.wait_for_function("() => document.getElementById('transcript').dataset.playingWord")
    page.click("#play")  # pause
    seen = page.evaluate(PLAYING_WORD)
    assert seen and seen["text"] and seen["row"] == seen["playingRow"] and seen["visible"], seen
    expect(page.locator("#transcript")).to_have_attribute("data-playing-word", seen["text"])

    # Stopped, a click on a word moves the play head there, and the mark follows to that word.
    third = page.locator(".utt-text").nth(2)
    box = third.bounding_box()
    assert box
    third.click(position={"x": 6, "y": box["height"] / 2})
    page.wait_for_function(
        "uid => document.querySelector('.utt.playing')?.dataset.uid === uid",
        arg=page.locator(".utt").nth(2).get_attribute("data-uid"),
    )
    page.wait_for_function(
        """() => {
            const h = CSS.highlights.get("playing-word");
            return h && h.size && [...h][0].startContainer.parentElement.closest(".utt")
                === document.querySelectorAll(".utt")[2];
        }"""
    )
    moved = page.evaluate(PLAYING_WORD)
    assert moved and third.inner_text().startswith(moved["text"]), moved
    shoot(page, shots, "25-playing-word")
    context.close()
    assert errors == []


def test_confidence_threshold_slider_is_remembered_and_shades_by_degree(
    site_factory: Any, browser: Any, shots: Path
) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "基準の確認", meeting(40))
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    low = page.locator(".utt-text .low")
    slider = page.get_by_role("slider", name="要確認の基準")
    expect(slider).to_have_value("0.5")
    expect(page.locator("#conf-threshold-value")).to_have_text("50% 未満")
    at_half = low.count()
    assert at_half > 10
    # The synthetic words: 0.3 for every ninth, 0.70–0.99 otherwise. At 50 %, 0.3 is well below.
    assert page.locator(".utt-text .low-2").count() == at_half
    expect(page.locator("#low-count")).to_have_text(f"({at_half})")

    slider.fill("0.9")
    expect(page.locator("#conf-threshold-value")).to_have_text("90% 未満")
    page.wait_for_function("n => document.querySelectorAll('.utt-text .low').length > n", arg=at_half)
    at_ninety = low.count()
    for degree in (1, 2, 3):  # just below, further, far below (0.3 at a 90 % threshold)
        assert page.locator(f".utt-text .low-{degree}").count() > 0, degree
    counted = int(page.locator("#low-count").inner_text().strip("()"))
    assert at_half < counted <= at_ninety  # words (a word a correction cuts in two is one)
    shoot(page, shots, "25-confidence-90")

    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(slider).to_have_value("0.9")  # remembered in this browser
    expect(low).to_have_count(at_ninety)
    context.close()
    assert errors == []


def test_overview_strip_shows_the_whole_recording_and_moves_there(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "見取り図", meeting(40))  # 140 s
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    strip = page.get_by_role("slider", name="録音全体の見取り図")
    expect(strip).to_be_visible()
    expect(strip).to_have_attribute("aria-valuemax", "140")
    # The first utterance (S1, 0–3.2 s) is painted in S1's colour on the first lane, at the far left.
    colour = page.evaluate(
        """() => {
            const canvas = document.querySelector('.overview canvas');
            const ratio = canvas.width / canvas.clientWidth;
            const [r, g, b] = canvas.getContext('2d').getImageData(2 * ratio, 4 * ratio, 1, 1).data;
            return [r, g, b];
        }"""
    )
    assert colour == [0x2F, 0x6F, 0xD6], colour
    # Words to check are ticked along the bottom band: some pixels there are orange.
    ticks = page.evaluate(
        """() => {
            const canvas = document.querySelector('.overview canvas');
            const y = canvas.height - 2;
            const row = canvas.getContext('2d').getImageData(0, y, canvas.width, 1).data;
            let n = 0;
            for (let i = 0; i < row.length; i += 4) if (row[i] === 0xd9 && row[i + 1] === 0x48) n++;
            return n;
        }"""
    )
    assert ticks > 5, ticks
    target = page.locator(".utt").nth(30)  # 105 s: three quarters of the way
    expect(target).not_to_be_in_viewport()
    box = strip.bounding_box()
    assert box
    strip.click(position={"x": box["width"] * 0.752, "y": 10})
    expect(target).to_be_in_viewport()
    shoot(page, shots, "25-overview")
    context.close()
    assert errors == []

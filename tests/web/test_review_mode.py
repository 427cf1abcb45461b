"""確認モード and the jump from search, in a real browser: the walk visits exactly the doubtful places
(adjacent low-confidence words as one, a hallucination flag, a dictionary correction) in time order
with one key each, plays each place's audio, survives edits made on the way and remembers what was
checked; ``?t=…&q=…`` opens the editor at that moment with the audio there and the words marked."""

from __future__ import annotations

import re
import wave
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished
from transcriber.transcript import Transcript

pytestmark = pytest.mark.slow

HIGH = 0.92


def _silence(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A silent mono WAV: enough for the browser to play and seek (the words are synthetic)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return path


def _segment(start: float, pieces: list[tuple[str, float]], speaker: str = "S1") -> dict[str, Any]:
    """An utterance of ``pieces`` (text, confidence), each word 0.5 s long from ``start``."""
    words = [
        {"start": round(start + 0.5 * n, 2), "end": round(start + 0.5 * (n + 1), 2), "text": t, "confidence": c}
        for n, (t, c) in enumerate(pieces)
    ]
    return {
        "start": start,
        "end": words[-1]["end"],
        "speaker": speaker,
        "text": "".join(t for t, _ in pieces),
        "words": words,
    }


def _doubtful_meeting() -> dict[str, Any]:
    segments = [
        _segment(
            0.0,
            [("それでは", HIGH), ("会議を", HIGH), ("始めます。", HIGH), ("よろしく", HIGH), ("お願いします。", HIGH)],
        ),
        _segment(4.0, [("本日の", HIGH), ("議題", 0.31), ("は", 0.35), ("来年度の", HIGH), ("予算です。", HIGH)], "S2"),
        _segment(8.0, [("杭全", HIGH), ("の", HIGH), ("交差点", HIGH), ("について。", HIGH)]),
        _segment(
            12.0, [("高齢者の", HIGH), ("相談", 0.22), ("件数は", HIGH), ("増えて", 0.41), ("います。", HIGH)], "S2"
        ),
        _segment(16.0, [("資料を", HIGH), ("ご覧", HIGH), ("ください。", HIGH)]),
        _segment(20.0, [("ご視聴", HIGH), ("ありがとう", HIGH), ("ございました", HIGH)], "S2"),
        _segment(24.0, [("以上で", HIGH), ("報告を", HIGH), ("終わります。", HIGH)]),
    ]
    body = {
        "schema": "kiroku.transcript/1",
        "duration": 28.0,
        "language": "ja",
        "speakers": [{"id": "S1"}, {"id": "S2"}],
        "segments": segments,
        "corrections": [
            {
                "segment": 2,
                "start": 0,
                "end": 2,
                "before": "クマタ",
                "after": "杭全",
                "term": "杭全",
                "rule": "redecode",
            }
        ],
        "flags": [  # the pipeline's hallucination flags (transcriber.hallucination)
            {
                "segment": 5,
                "start": 20.0,
                "end": 21.5,
                "kind": "caption",
                "text": "ご視聴ありがとうございました",
                "reason": "動画の字幕によくある決まり文句です。話し声のない所で書かれることがあります。",
            }
        ],
        "model": "synthetic",
    }
    transcript = Transcript.model_validate(body).to_json_dict()
    assert transcript["flags"]
    return transcript


# (label, machine text, start, end) of every place, in the order the walk must visit them.
PLACES = [
    ("要確認の語", "議題は", 4.5, 5.5),
    ("辞書による修正", "杭全", 8.0, 8.5),
    ("要確認の語", "相談", 12.5, 13.0),
    ("要確認の語", "増えて", 13.5, 14.0),
    ("定型文(字幕)の疑い", "ご視聴ありがとうございました", 20.0, 21.5),
]


def _highlight(page: Any, name: str) -> str:
    """The text a CSS custom highlight marks (what the clerk sees coloured)."""
    script = "(n) => { const h = CSS.highlights.get(n); return h ? [...h][0].toString() : ''; }"
    text: str = page.evaluate(script, name)
    return text


def _highlighted(page: Any) -> str:
    return _highlight(page, "review-current")


def _audio_near(page: Any, start: float, end: float) -> None:
    """The audio plays the place: from a little before it to a little after."""
    page.wait_for_function(
        "([a, b]) => { const t = document.getElementById('audio').currentTime; return t >= a && t <= b; }",
        arg=[start - 1.1, end + 1.0],
        timeout=30_000,  # a bound for a loaded machine, not a speed claim
    )


def _expect_place(page: Any, number: int) -> None:
    label, text, start, end = PLACES[number - 1]
    bar = page.locator("#review-bar")
    expect(bar.locator("#review-progress")).to_have_text(f"{number} / {len(PLACES)} 件")
    expect(bar.locator("#review-kind")).to_have_text(label)
    expect(bar.locator("#review-text")).to_have_text(f"認識結果: 「{text}」")
    expect(page.locator(".utt.review-row")).to_have_count(1)
    expect(page.locator(".utt.review-row .utt-text")).to_contain_text(text)
    assert _highlighted(page) == text
    _audio_near(page, start, end)


def test_review_mode_walks_the_doubtful_places(site_factory: Any, browser: Any, shots: Path, tmp_path: Path) -> None:
    site: Site = site_factory(worker=False)
    audio = _silence(tmp_path / "silence.wav", 30)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "確認モード", _doubtful_meeting(), audio)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    texts = page.locator(".utt-text")

    # The minutes differ from the machine's transcript before the walk: the first utterance is split,
    # so every later utterance has moved one place down (places are found by time, not by number).
    texts.first.click()
    page.keyboard.press("Home")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(texts).to_have_count(8)

    page.keyboard.press("Alt+k")
    bar = page.locator("#review-bar")
    expect(bar).to_be_visible()
    expect(bar).to_be_focused()
    expect(page.locator("#review-open")).to_have_attribute("aria-pressed", "true")
    _expect_place(page, 1)
    expect(bar.locator("#review-reasons")).to_contain_text("確からしさが低い語です(31%)")
    shoot(page, shots, "30-review-mode")

    # One key each: Enter = checked and next, ↑ = back.
    page.keyboard.press("Enter")
    _expect_place(page, 2)
    expect(bar.locator("#review-reasons")).to_contain_text("「クマタ」を「杭全」に直しました")
    # how it was changed: the recogniser heard the place again with the term in mind
    expect(bar.locator("#review-reasons")).to_contain_text("音声を聞き直すと用語「杭全」と聞こえたので")
    page.keyboard.press("ArrowUp")
    _expect_place(page, 1)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    _expect_place(page, 3)
    # The audio of a place stops by itself a little after it.
    page.wait_for_function(
        "() => { const a = document.getElementById('audio'); return a.paused && a.currentTime > 13.3; }",
        timeout=60_000,  # the audio plays in real time: a bound for a loaded machine
    )
    page.keyboard.press("Enter")
    _expect_place(page, 4)

    # E: straight into the text with the words selected; retype them; Alt+K comes back to the walk.
    page.keyboard.press("e")
    row = page.locator(".utt.review-row .utt-text")
    expect(row).to_be_focused()
    assert page.evaluate("() => getSelection().toString()") == "増えて"
    page.keyboard.type("増加して")
    expect(row).to_contain_text("件数は増加しています。")
    page.keyboard.press("Alt+k")
    expect(bar).to_be_focused()
    expect(bar.locator("#review-progress")).to_have_text("4 / 5 件")
    assert _highlighted(page) == "増加して"  # found again in the edited text

    # D: 辞書に追加 pre-filled with what the clerk typed and what the machine wrote; Esc closes only it.
    page.keyboard.press("d")
    dialog = page.locator("#term-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#td-term")).to_have_value("増加して")
    expect(page.locator("#td-before")).to_have_value("増えて")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(bar).to_be_visible()
    expect(bar).to_be_focused()

    page.keyboard.press("ArrowDown")
    _expect_place(page, 5)
    expect(bar.locator("#review-reasons")).to_contain_text("動画の字幕によくある決まり文句です")
    shoot(page, shots, "31-review-flag")
    page.keyboard.press("Enter")
    done = bar.locator("#review-done")
    expect(done).to_be_visible()
    expect(done).to_contain_text("確認が必要な 5 件をすべて見終わりました")
    expect(bar.locator("#review-checked")).to_have_text("確認済み 5 件")
    expect(page.locator(".utt.review-row")).to_have_count(0)
    shoot(page, shots, "32-review-done")
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    expect(page.locator("#review-open")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)

    # Checked places are remembered in this browser: the walk reopens at its end; 最初から starts over.
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    page.click("#review-open")
    expect(done).to_be_visible()
    bar.get_by_role("button", name="最初から見直す").click()
    _expect_place(page, 1)
    expect(bar.locator("#review-checked")).to_have_text("確認済み 0 件")
    context.close()
    assert errors == []


def test_jump_to_time_from_a_search_link(site_factory: Any, browser: Any, shots: Path, tmp_path: Path) -> None:
    site: Site = site_factory(worker=False)
    transcript = meeting(60)  # utterances every 3.5 s
    target = transcript["segments"][35]  # 122.5 s – 125.7 s
    target["text"] = "資料の三ページをご覧ください。"
    target["words"] = [{"start": target["start"], "end": target["end"], "text": target["text"], "confidence": 0.9}]
    audio = _silence(tmp_path / "silence.wav", transcript["duration"] + 1)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "検索から", transcript, audio)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk")

    # As the search page links a hit: the utterance at t, the words of q marked (3 finds 三).
    page.goto(f"{site.base}/recordings/{recording_id}?t=123.4&q=3ページ")
    page.wait_for_selector("body[data-ready='true']")
    row = page.locator(".utt").nth(35)
    expect(row.locator(".utt-text")).to_be_focused()
    expect(row.locator(".utt-text")).to_be_in_viewport()
    expect(row).to_have_class(re.compile(r"\bjump-row\b"))
    assert _highlight(page, "jump-hit") == "三ページ"
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 123.4) < 0.3")
    assert page.evaluate("() => document.getElementById('audio').paused")  # no autoplay
    shoot(page, shots, "33-editor-jump")

    # Without q, another time: the utterance said then.
    page.goto(f"{site.base}/recordings/{recording_id}?t=10")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator(".utt").nth(2).locator(".utt-text")).to_be_focused()
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 10) < 0.3")
    context.close()
    assert errors == []

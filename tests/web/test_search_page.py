"""検索 in a real browser: 9条 finds 九条 with the match highlighted, a result opens the editor at that
utterance's time, the query stays in the URL (back and forward), another department's records never
appear, record text is shown as text (never as HTML), paging, and the empty and error states."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.search import index_recording
from tests.service.conftest import PASSWORD
from tests.web.conftest import Site, shoot, watch_errors
from tests.web.transcripts import store_finished
from transcriber.transcript import Segment, Speaker, Transcript

pytestmark = pytest.mark.slow


def transcript(texts: list[str]) -> dict[str, Any]:
    """A finished transcript saying ``texts``, one utterance each, 10 s apart, two speakers."""
    segments = [Segment(start=10.0 * k, end=10.0 * k + 8, speaker=f"S{k % 2 + 1}", text=t) for k, t in enumerate(texts)]
    body = Transcript(
        duration=10.0 * len(texts), speakers=[Speaker(id="S1"), Speaker(id="S2")], segments=segments, model="test"
    )
    return body.to_json_dict()


def stored(site: Site, user: str, title: str, texts: list[str]) -> int:
    """A finished recording of ``user``'s department, in the search index as the worker leaves it."""
    recording_id = store_finished(site.engine, site.storage, user, title, transcript(texts))
    index(site.engine, recording_id)
    return recording_id


def index(engine: Engine, recording_id: int) -> None:
    with Session(engine) as db:
        assert index_recording(db, recording_id)


def test_search_page(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    article = stored(
        site,
        "web_clerk",
        "条例改正の説明会",
        ["本日は条例の改正についてご説明します。", "第九条の規定により、申請を審査します。", "以上です。"],
    )
    stored(site, "web_clerk", "見守り活動の報告", ["地域の見守り活動について報告します。"])
    stored(site, "web_clerk", "<img src=x>資料", ["<b>九条</b>の資料を配ります。"])  # markup is only text
    theirs = stored(site, "other_clerk", "税務部の打合せ", ["第九条について税務部で確認します。"])
    for n in range(21):
        stored(site, "web_clerk", f"定例会 第{n + 1}回", [f"粗大ごみの収集について、第{n + 1}回の確認です。"])

    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    # A search link opened while signed out comes back, query and all, after logging in.
    page.goto(f"{site.base}/search?q=%E8%A6%8B%E5%AE%88%E3%82%8A")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#username", "web_clerk")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{site.base}/search?q=%E8%A6%8B%E5%AE%88%E3%82%8A")
    expect(page.locator("#s-q")).to_have_value("見守り")
    expect(page.locator("#s-results > li")).to_have_count(1)
    expect(page.locator("#s-results mark")).to_have_text(["見守り", "見守り"])  # the utterance and the title
    expect(page.locator("#s-results")).to_contain_text("地域の見守り活動について報告します。")
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="検索").click()
    page.wait_for_url(f"{site.base}/search")
    expect(page.locator("#s-empty")).to_contain_text("探したい語を入力")
    expect(page.locator("#s-q")).to_be_focused()

    # 9条 (half-width digit) finds 第九条 in this department only, with the match marked.
    page.fill("#s-q", "9条")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=9%E6%9D%A1$"))
    results = page.locator("#s-results > li")
    expect(results).to_have_count(2)
    expect(page.locator("#s-count")).to_contain_text("2 件")
    top = results.filter(has_text="条例改正の説明会")
    expect(top.locator("mark")).to_have_text(["九条"])
    expect(top).to_contain_text("第九条の規定により、申請を審査します。")
    expect(top).to_contain_text("00:10")
    expect(top).to_contain_text("会議")
    expect(page.locator("#s-results")).not_to_contain_text("税務部")
    # The markup in a title and a snippet is shown as written, not run.
    odd = results.filter(has_text="<img src=x>資料")
    expect(odd).to_contain_text("<b>九条</b>の資料を配ります。")
    assert odd.locator("img, b").count() == 0
    shoot(page, shots, "40-search-results")

    # The match opens the editor at that utterance, with the query (the editor's own messages are the
    # editor tests' business: this test checks the search page's).
    assert errors == []
    top.locator("a.match").first.click()
    page.wait_for_url(re.compile(rf"/recordings/{article}\?"))
    params = parse_qs(urlsplit(page.url).query)
    assert params == {"t": ["10"], "q": ["9条"]}
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?q="))
    expect(page.locator("#s-q")).to_have_value("9条")
    expect(results).to_have_count(2)
    errors.clear()

    # Another department's record is never found, however it is asked for.
    page.fill("#s-q", "税務部")
    page.keyboard.press("Enter")
    expect(page.locator("#s-empty")).to_contain_text("「税務部」を含む記録は見つかりませんでした")
    expect(results).to_have_count(0)
    api_answer = page.evaluate("() => fetch('/api/v1/search?q=九条').then((r) => r.json())")
    assert theirs not in [item["recording_id"] for item in api_answer["items"]]

    # A one-character word is refused in Japanese; the page says why.
    page.fill("#s-q", "条")
    page.keyboard.press("Enter")
    expect(page.locator("#s-error")).to_contain_text("2文字以上")

    # More than a page: the next 20, in the URL; back returns to the first page.
    page.fill("#s-q", "粗大ゴミ")  # katakana finds ごみ
    page.keyboard.press("Enter")
    expect(page.locator("#s-count")).to_contain_text("21 件")
    expect(results).to_have_count(20)
    page.click("#s-next")
    page.wait_for_url(re.compile(r"offset=20"))
    expect(results).to_have_count(1)
    expect(page.locator("#s-page")).to_contain_text("21–21 件目")
    expect(page.locator("#s-prev")).to_be_visible()
    page.go_back()
    expect(results).to_have_count(20)
    expect(page.locator("#s-next")).to_be_visible()
    page.go_back()  # the previous search, answered again from the URL
    expect(page.locator("#s-q")).to_have_value("条")

    # The "/" key brings the search box back from anywhere on the page.
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#s-q")).to_be_focused()
    context.close()
    assert [e for e in errors if "status of 422" not in e] == []

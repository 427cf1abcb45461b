"""辞書に追加 in a real browser: a clerk corrects 花天 to 放出 in the editor, proposes it from the
selection (pre-filled with what the machine wrote), a manager accepts it on the dictionaries page
(and rejects another), the term is then in the department's dictionary, the department's count goes
up, and the department's next recording would get the word right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from dictionaries.correction import Corrector
from service.dictionaries import terms_for
from service.models import DictionaryTerm, Recording
from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.web.conftest import DEPARTMENT, Site, log_in, shoot, watch_errors
from tests.web.transcripts import store_finished
from transcriber.transcript import Transcript

pytestmark = pytest.mark.slow


def _transcript() -> dict[str, Any]:
    texts = ["花天駅の近くの公園です。", "自転車の置き場について相談がありました。"]
    segments = []
    for n, text in enumerate(texts):
        start = n * 4.0
        segments.append(
            {
                "start": start,
                "end": start + 3.0,
                "speaker": "S1",
                "text": text,
                "words": [{"start": start, "end": start + 3.0, "text": text, "confidence": 0.9}],
            }
        )
    body = {"schema": "kiroku.transcript/1", "duration": 8.0, "segments": segments, "model": "synthetic"}
    return Transcript.model_validate(body).to_json_dict()


def _department_corrects(site: Site, recording_id: int, text: str) -> str:
    """What the worker's dictionary correction would write for this department's next recording."""
    with Session(site.engine) as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        return Corrector(terms_for(db, recording)).correct(text)[0]


def test_term_proposed_in_the_editor_and_accepted(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    with Session(site.engine) as db:  # the shipped city dictionary knows 放出: the department must learn it
        for row in db.exec(select(DictionaryTerm).where(DictionaryTerm.surface == "放出")).all():
            db.delete(row)
        db.commit()
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "放出の公園", _transcript(), SINGLE)
    assert _department_corrects(site, recording_id, "花天で降りてください。") == "花天で降りてください。"

    # --- the clerk corrects the word and proposes it ---------------------------------------------
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    first = page.locator(".utt-text").first
    first.click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.type("放出")
    expect(first).to_have_text("放出駅の近くの公園です。")
    page.click("#term-add")  # nothing selected: the change just typed before the caret
    dialog = page.locator("#term-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("用語(正しい書き方)")).to_have_value("放出")
    expect(dialog.get_by_label("認識結果の表記(間違い)")).to_have_value("花天")
    expect(dialog.get_by_label("読み(ひらがな)")).to_have_value("")  # kanji: the API would read 花天
    expect(page.locator("#td-reading-hint")).to_contain_text("空欄のときは「花天」の読みを自動で入れます")
    expect(page.locator("#td-stats")).to_contain_text("辞書に入った用語: 0 語")
    dialog.get_by_role("button", name="やめる").click()
    expect(dialog).to_be_hidden()

    # The usual way: select the corrected word, then 辞書に追加.
    first.click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.click("#term-add")
    expect(dialog).to_be_visible()
    expect(page.locator("#td-term")).to_have_value("放出")
    expect(page.locator("#td-before")).to_have_value("花天")
    page.fill("#td-reading", "ハナテン")
    page.fill("#td-category", "地名")
    shoot(page, shots, "40-term-dialog")
    page.click("#td-submit")
    expect(dialog).to_be_hidden()
    banner = page.locator("#banner")
    expect(banner).to_contain_text("「花天」→「放出」(読み: はなてん)を辞書への追加として提案しました")
    expect(banner.get_by_role("link", name="辞書のページで見る")).to_have_attribute("href", "/dictionaries#proposals")
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)

    # A second, wrong proposal (made with the API) that the manager will reject.
    clerk = api_login(site.base, "web_clerk", PASSWORD)
    wrong = clerk.post(f"/api/v1/recordings/{recording_id}/term-proposals", json={"before": "置き場", "after": "沖庭"})
    assert wrong.status_code == 201, wrong.text
    context.close()

    # --- the manager decides on the dictionaries page ------------------------------------------------
    manager_context = site.context(browser)
    manager = manager_context.new_page()
    errors += watch_errors(manager)
    log_in(manager, site.base, "web_manager", path="/dictionaries")
    stats = manager.locator("#proposal-stats")
    expect(stats).to_have_text("「辞書に追加」から増えた用語: 0 語")
    section = manager.locator("#proposals")
    expect(section.locator("#proposals-count")).to_have_text("(2 件)")
    row = section.locator("tr", has_text="放出")
    expect(row).to_contain_text("花天")
    expect(row).to_contain_text("山田 花子")
    expect(row.get_by_label("「放出」の読み")).to_have_value("はなてん")
    expect(row.get_by_label("「放出」の分類")).to_have_value("地名")
    shoot(manager, shots, "41-proposals")

    manager.once("dialog", lambda d: d.accept())
    section.get_by_role("button", name="「沖庭」を却下").click()
    expect(section.locator("#proposal-message")).to_contain_text("「置き場」→「沖庭」の提案を却下しました")
    row.get_by_role("button", name="「放出」を採用").click()
    expect(section.locator("#proposal-message")).to_contain_text(f"「放出」を辞書「{DEPARTMENT} 用語」に追加しました")
    expect(section.locator("#proposals-empty")).to_have_text("採用を待つ提案はありません。")
    expect(section.locator("#proposal-rows tr")).to_have_count(0)
    expect(stats).to_have_text("「辞書に追加」から増えた用語: 1 語")

    # The term is in the department's dictionary, shown at once.
    expect(manager.locator("#dict-title")).to_have_text(f"{DEPARTMENT} 用語")
    term_row = manager.locator("#terms tr", has_text="放出")
    expect(term_row).to_contain_text("はなてん")
    expect(term_row).to_contain_text("花天")
    expect(term_row).to_contain_text("地名")
    expect(manager.locator("#terms")).not_to_contain_text("沖庭")
    shoot(manager, shots, "42-proposal-accepted")
    manager_context.close()

    assert _department_corrects(site, recording_id, "花天で降りてください。") == "放出で降りてください。"
    assert errors == []

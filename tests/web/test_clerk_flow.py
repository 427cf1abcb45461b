"""A clerk's day in a real browser against `kiroku serve` with its worker: log in, upload a clip and
watch it finish, open the editor, play and seek, rename a speaker, edit a sentence, reload and see it
saved, meet another clerk's save (a conflict, never an overwrite), and export Word read back with
python-docx."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.web.conftest import Site, log_in, shoot, watch_errors

pytestmark = pytest.mark.slow

EDITED = "ただいまから予算説明会を開会いたします。"
AGENDA = "来年度の予算について"
EXPECTED_CONSOLE = ("status of 409", "status of 401", "status of 415")  # refusals the test provokes


def _real_errors(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(expected in e for expected in EXPECTED_CONSOLE)]


def _drop_file(page: Any, selector: str, name: str, data: bytes, media_type: str) -> None:
    """Drag and drop a file onto ``selector`` as the browser does it (a DataTransfer with a File)."""
    page.evaluate(
        """([selector, name, b64, type]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type }));
            const target = document.querySelector(selector);
            for (const kind of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
        }""",
        [selector, name, base64.b64encode(data).decode(), media_type],
    )


def _audio(page: Any) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        "() => { const a = document.getElementById('audio'); return {t: a.currentTime, paused: a.paused}; }"
    )
    return state


def test_clerk_uploads_edits_and_exports(site_factory: Any, browser: Any, shots: Path, tmp_path: Path) -> None:
    site: Site = site_factory(worker=True)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)

    # --- ログイン ------------------------------------------------------------------------------
    page.goto(f"{site.base}/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.locator("h1")).to_have_text("ログイン")
    shoot(page, shots, "01-login")
    page.fill("#username", "web_clerk")
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("ユーザー名またはパスワードが違います")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{site.base}/")
    expect(page.locator("#empty")).to_contain_text("まだ記録がありません")
    expect(page.locator(".site-nav")).to_contain_text("記録一覧")
    expect(page.locator(".site-nav a", has_text="利用状況")).to_have_count(0)  # clerks: no usage page

    # --- アップロード --------------------------------------------------------------------------
    page.click(".site-nav >> text=アップロード")
    page.wait_for_url(f"{site.base}/upload")
    expect(page.locator("#dictionaries .check")).to_have_count(1)  # the city's standard dictionary
    _drop_file(page, "#dropzone", "メモ.txt", "議事メモ".encode(), "text/plain")
    rejected = page.locator(".file-item", has_text="メモ.txt")
    expect(rejected).to_contain_text("音声・動画のファイルではないようです")
    rejected.get_by_role("button", name="メモ.txt を一覧から取り除く").click()
    expect(page.locator(".file-item")).to_have_count(0)
    _drop_file(page, "#dropzone", "壊れた録音.wav", b"RIFF not really a wave file", "audio/wav")
    _drop_file(page, "#dropzone", "予算説明.flac", SINGLE.read_bytes(), "audio/flac")
    broken = page.locator(".file-item", has_text="壊れた録音.wav")
    item = page.locator(".file-item", has_text="予算説明.flac")
    item.get_by_label("タイトル").fill("予算説明会")
    page.get_by_label("会議", exact=True).check()
    page.fill("#held-at", "2026-04-15T10:00")
    page.fill("#f-meeting-place", "北区役所 3階 第1会議室")
    page.fill("#f-meeting-attendees", "田中課長、山田、佐藤")
    shoot(page, shots, "02-upload")
    # A slow line (about 100 KB/s up): the file's bar moves while its bytes go out.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 40, "downloadThroughput": -1, "uploadThroughput": 100 * 1024},
    )
    page.click("#start")
    bar = item.locator("progress")
    seen: set[int] = set()
    for _ in range(100):
        seen.add(int(bar.evaluate("b => b.value")))
        if item.locator(".file-status").inner_text().startswith(("登録しました", "サーバー", "文字起こし")):
            break
        page.wait_for_timeout(50)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    assert any(0 < value < 100 for value in seen), seen
    expect(item.locator(".file-status")).to_contain_text(re.compile("登録しました|文字起こし"), timeout=30_000)
    expect(broken.locator(".file-status")).to_contain_text("対応形式")  # the API's own Japanese reason
    expect(broken.get_by_role("button", name="もう一度送信")).to_be_visible()
    shoot(page, shots, "03-upload-sent")

    # --- 記録一覧: the status goes live until 完了 --------------------------------------------
    page.click(".site-nav >> text=記録一覧")
    row = page.locator("#rows tr", has_text="予算説明会")
    expect(row).to_contain_text("会議")
    expect(row).to_contain_text("2026年4月15日(水) 10:00")
    expect(row).to_contain_text("山田 花子")
    shoot(page, shots, "04-list-progress")
    expect(row.locator(".badge")).to_have_text("完了", timeout=240_000)
    expect(row).to_contain_text("9秒")
    page.fill("#f-q", "存在しないタイトル")
    expect(page.locator("#empty")).to_contain_text("条件に合う記録はありません")
    page.click("#f-clear")
    page.select_option("#f-kind", "meeting")
    page.select_option("#f-status", "succeeded")
    expect(row).to_be_visible()
    shoot(page, shots, "05-list")

    # --- 編集 -----------------------------------------------------------------------------------
    row.get_by_role("link", name="予算説明会", exact=True).click()
    page.wait_for_url(re.compile(r"/recordings/\d+$"))
    recording_id = int(page.url.rsplit("/", 1)[1])
    page.wait_for_selector("body[data-ready='true']")
    texts = page.locator(".utt-text")
    assert texts.count() >= 1
    assert "予算" in "".join(texts.all_inner_texts())
    expect(page.locator("#hf-held_at")).to_have_value("2026年4月15日(水) 10:00")
    shoot(page, shots, "06-editor")

    # play, pause with Esc, seek by clicking an utterance's time, Alt+→ five seconds on
    page.click("#play")
    page.wait_for_function(
        "() => !document.getElementById('audio').paused && document.getElementById('audio').currentTime > 0.3"
    )
    texts.first.click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.getElementById('audio').paused")
    last = page.locator(".utt").last
    last.locator(".utt-time").click()
    page.wait_for_function("() => !document.getElementById('audio').paused")
    page.keyboard.press("Escape")  # focus is on the page, not in a text: Esc still pauses
    page.wait_for_function("() => document.getElementById('audio').paused")
    expect(last).to_have_class(re.compile(r"\bplaying\b"))
    texts.first.click()  # paused: the caret's word becomes the position
    page.evaluate("() => { document.getElementById('audio').currentTime = 1; }")
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 1) < 0.05")
    page.keyboard.press("Alt+ArrowRight")  # while the caret is in the text
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 6) < 0.3")
    assert page.url.endswith(f"/recordings/{recording_id}")  # Alt+→ is not the browser's "forward"

    # rename S1 everywhere, change the first sentence, fill the agenda: saved by itself
    page.fill("#spk-name-0", "田中課長")
    for label in page.locator(".utt-speaker").all_inner_texts():
        assert label == "田中課長"
    first = texts.first
    first.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(EDITED)
    page.fill("#hf-agenda", AGENDA)
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)

    # reload: everything is there
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(texts.first).to_have_text(EDITED)
    expect(page.locator(".utt-speaker").first).to_have_text("田中課長")
    expect(page.locator("#hf-agenda")).to_have_value(AGENDA)
    expect(page.locator("#spk-name-0")).to_have_value("田中課長")

    # --- another clerk saves first: this page must warn and never overwrite -------------------
    other = site.context(browser)
    other_page = other.new_page()
    log_in(other_page, site.base, "web_clerk2", path=f"/recordings/{recording_id}")
    other_page.wait_for_selector("body[data-ready='true']")
    other_text = other_page.locator(".utt-text").first
    other_text.click()
    other_page.keyboard.press("End")
    other_page.keyboard.type("(佐藤が確認)")
    expect(other_page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)

    first = texts.first
    first.click()
    page.keyboard.press("End")
    page.keyboard.type("山田の追記")
    banner = page.locator("#banner")
    expect(banner).to_contain_text("佐藤 次郎さんがこの記録を先に保存しました", timeout=15_000)  # named
    expect(page.locator("#save-state")).to_have_text("保存を止めています")
    expect(first).to_have_attribute("contenteditable", "false")
    shoot(page, shots, "07-editor-conflict")
    client = api_login(site.base, "web_clerk", PASSWORD)
    saved = client.get(f"/api/v1/recordings/{recording_id}/minutes").json()
    assert saved["transcript"]["segments"][0]["text"] == EDITED + "(佐藤が確認)"  # theirs, not overwritten
    page.once("dialog", lambda dialog: dialog.accept())
    banner.get_by_role("button", name="最新の版を読み込む").click()
    expect(texts.first).to_have_text(EDITED + "(佐藤が確認)")
    expect(page.locator("#save-state")).not_to_have_text("保存を止めています")
    other.close()

    # --- 書き出し: Word, read back --------------------------------------------------------------
    with page.expect_download() as download:
        page.click("#export-docx-top")
    docx_path = tmp_path / "minutes.docx"
    download.value.save_as(docx_path)
    assert download.value.suggested_filename == "20260415_予算説明会_会議録.docx"
    document = Document(str(docx_path))
    header = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert header["会議名"] == "予算説明会" and header["日時"].startswith("2026年4月15日(水) 10:00 開会 ～ ")
    assert header["場所"] == "北区役所 3階 第1会議室" and header["出席者"] == "田中課長、山田、佐藤"
    assert header["議題"] == AGENDA
    lines = [p.text for p in document.paragraphs if p.text.startswith("○")]
    assert lines and lines[0].startswith(f"○田中課長\u3000{EDITED}(佐藤が確認)")
    assert all(line.startswith("○田中課長\u3000") for line in lines)  # S1 renamed everywhere
    with page.expect_download() as text_download:
        page.click(".export-buttons [data-format='txt']")
    assert "田中課長: " + EDITED in Path(text_download.value.path()).read_text(encoding="utf-8")

    # --- 版の履歴: back to the machine's transcript, then forward again -------------------------
    page.click("#revisions-open")
    dialog = page.locator("#revisions")
    expect(dialog.locator("li", has_text="現在の版")).to_have_count(1)
    expect(dialog.locator("li", has_text="文字起こし(未編集)")).to_contain_text("自動で作成")
    expect(dialog.locator("li").first).to_contain_text("佐藤 次郎")
    shoot(page, shots, "08-revisions")
    page.once("dialog", lambda d: d.accept())
    dialog.locator("li", has_text="文字起こし(未編集)").get_by_role("button", name="この版に戻す").click()
    expect(dialog).to_be_hidden()
    expect(texts.first).not_to_contain_text(EDITED)
    restored = client.get(f"/api/v1/recordings/{recording_id}/minutes").json()
    assert EDITED not in restored["transcript"]["segments"][0]["text"]

    page.click(".site-nav >> text=辞書")
    page.wait_for_url(f"{site.base}/dictionaries")
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto(f"{site.base}/upload")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fupload$"))
    context.close()
    assert _real_errors(errors) == []

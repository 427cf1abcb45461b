"""辞書 in a real browser: the city-wide dictionary read-only for clerks, a department dictionary
created, terms added, edited and deleted, CSV imported (UTF-8 and Shift_JIS) and exported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from dictionaries.csv_io import parse_csv_bytes
from tests.web.conftest import Site, log_in, shoot, watch_errors

pytestmark = pytest.mark.slow


def test_dictionary_page(site_factory: Any, browser: Any, shots: Path, tmp_path: Path) -> None:
    site: Site = site_factory(worker=False)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path="/dictionaries")

    city = page.locator("#dict-list button", has_text="大阪市 標準辞書")
    expect(city).to_contain_text("全市共通")
    expect(city).to_contain_text("閲覧のみ")
    city.click()
    expect(page.locator("#readonly-note")).to_be_visible()
    expect(page.locator("#term-form")).to_be_hidden()
    page.fill("#term-filter", "天下茶屋")
    expect(page.locator("#terms tr")).to_have_count(1)
    expect(page.locator("#terms")).to_contain_text("てんがちゃや")

    page.fill("#new-dict-name", "保健福祉課の用語")
    page.click("#new-dict button[type=submit]")
    expect(page.locator("#dict-title")).to_have_text("保健福祉課の用語")
    expect(page.locator("#dict-list button[aria-current=true]")).to_contain_text("北区役所 保健福祉課")

    page.fill("#term-term", "杭全")
    page.fill("#term-reading", "クマタ")
    page.fill("#term-aliases", "熊田、くま田")
    page.fill("#term-category", "地名")
    page.click("#term-form button[type=submit]")
    expect(page.locator("#term-message")).to_contain_text("「杭全」を追加しました")
    row = page.locator("#terms tr", has_text="杭全")
    expect(row).to_contain_text("くまた")  # stored in hiragana
    expect(row).to_contain_text("熊田、くま田")
    page.fill("#term-term", "杭全")
    page.click("#term-form button[type=submit]")
    expect(page.locator("#term-message")).to_contain_text("既にあります")
    page.fill("#term-term", "")

    row.get_by_role("button", name="杭全 を編集").click()
    page.get_by_label("分類", exact=True).last.fill("地名(東住吉区)")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#term-message")).to_contain_text("「杭全」を保存しました")
    expect(page.locator("#terms tr", has_text="杭全")).to_contain_text("地名(東住吉区)")

    utf8 = tmp_path / "用語.csv"
    utf8.write_bytes("\ufeff用語,読み,誤表記,分類\n放出,はなてん,花天,地名\n,よみだけ,,\n".encode())
    page.set_input_files("#import-file", str(utf8))
    page.click("#import-form button[type=submit]")
    result = page.locator("#import-result")
    expect(result).to_contain_text("追加 1 語")
    expect(result).to_contain_text("3行目: 用語が空です")
    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes("term,reading,aliases,category\n天王寺動物園,てんのうじどうぶつえん,,施設\n".encode("shift_jis"))
    page.set_input_files("#import-file", str(sjis))
    page.click("#import-form button[type=submit]")
    expect(result).to_contain_text("追加 1 語")
    expect(page.locator("#terms tr")).to_have_count(3)
    expect(page.locator("#dict-list button[aria-current=true]")).to_contain_text("3 語")
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, shots, "09-dictionaries")

    with page.expect_download() as download:
        page.click("#export-csv")
    exported = Path(download.value.path()).read_bytes()
    assert exported.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    terms = {t.term: t for t in parse_csv_bytes(exported).terms}
    assert set(terms) == {"杭全", "放出", "天王寺動物園"}
    assert terms["杭全"].aliases == ("熊田", "くま田") and terms["杭全"].category == "地名(東住吉区)"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#terms tr", has_text="放出").get_by_role("button", name="放出 を削除").click()
    expect(page.locator("#terms tr")).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-dict")
    expect(page.locator("#dict-list")).not_to_contain_text("保健福祉課の用語")
    context.close()
    assert [e for e in errors if "status of 409" not in e] == []

"""Presence in the editor, in a real browser: a clerk opening a recording another clerk has open is
told who (「山田 花子さんがこの記録を開いています」), and the same clerk's second tab says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished

pytestmark = pytest.mark.slow


def test_who_else_has_the_recording_open(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "在室の確認", meeting(5))
    path = f"/recordings/{recording_id}"
    yamada = site.context(browser)
    first = yamada.new_page()
    errors = watch_errors(first)
    log_in(first, site.base, "web_clerk", path=path)
    first.wait_for_selector("body[data-ready='true']")
    expect(first.locator("#presence")).to_be_hidden()  # alone

    sato = site.context(browser)
    other = sato.new_page()
    errors += watch_errors(other)
    log_in(other, site.base, "web_clerk2", path=path)
    expect(other.locator("#presence")).to_have_text("山田 花子さんがこの記録を開いています")
    shoot(other, shots, "25-presence")

    second_tab = yamada.new_page()
    errors += watch_errors(second_tab)
    second_tab.goto(f"{site.base}{path}")
    expect(second_tab.locator("#presence")).to_contain_text("佐藤 次郎さんがこの記録を開いています")
    expect(second_tab.locator("#presence")).to_contain_text("別のタブでもこの記録を開いています")
    second_tab.close()
    yamada.close()
    sato.close()
    assert errors == []

"""The 公開用 page offers the editor's export choices: 全文 keeps 「えー」, 整文 leaves it out, and the
time stamps appear only when asked; the masked number stays ■ either way."""

from __future__ import annotations

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
TEXTS = ["えー、それでは相談の記録を始めます。", f"あのー、折り返しの電話番号は{PHONE}です。"]


def transcript() -> dict[str, Any]:
    segments = [Segment(start=5.0 * k, end=5.0 * k + 4, speaker=f"S{k + 1}", text=t) for k, t in enumerate(TEXTS)]
    body = Transcript(duration=10.0, speakers=[Speaker(id="S1"), Speaker(id="S2")], segments=segments, model="test")
    return body.to_json_dict()


def download_txt(page: Any) -> str:
    with page.expect_download() as download:
        page.click("[data-format=txt]")
    return Path(download.value.path()).read_text(encoding="utf-8")


def test_publication_export_offers_full_or_tidy_text_and_time_stamps(
    site_factory: Any, browser: Any, shots: Path
) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "窓口相談", transcript())
    made = api_login(site.base, "web_clerk", PASSWORD).post(f"/api/v1/recordings/{recording_id}/publication")
    assert made.status_code == 201, made.text
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}/publication")
    expect(page.locator("[data-format=txt]")).to_be_enabled()
    expect(page.get_by_label("全文(話したとおり)")).to_be_checked()

    full = download_txt(page)
    assert "えー、それでは" in full and "あのー、" in full
    assert "[00:" not in full and PHONE not in full and "■" * len(PHONE) in full

    page.get_by_label("整文(「えー」「あのー」や言い直しを除く)").check()
    page.get_by_label("発言の時刻を入れる").check()
    shoot(page, shots, "45-publication-export-choice")
    tidy = download_txt(page)
    assert "えー" not in tidy and "あのー" not in tidy and "それでは相談の記録を始めます。" in tidy
    assert "[00:00:05]" in tidy and PHONE not in tidy and "■" * len(PHONE) in tidy
    page.set_viewport_size({"width": 360, "height": 800})  # a phone: the choices wrap, nothing is cut
    expect(page.get_by_label("発言の時刻を入れる")).to_be_visible()
    shoot(page, shots, "46-publication-export-choice-360")
    context.close()
    assert errors == [], errors

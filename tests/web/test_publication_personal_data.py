"""公開用 of a phone call in a real browser (issue 24): the caller's name cut by a backchannel
(山本|な|子), the birth date said right after it and the town they live in are proposed, each with its
reason; the staff member introducing themself, a job title, the speaker labels and the header's labels
(対応: 相手:) are not; the header rows carry their own labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from service.models import Recording
from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import store_finished
from transcriber.transcript import Segment, Speaker, Transcript

pytestmark = pytest.mark.slow

UTTERANCES = [
    ("S1", "はい、保護課の日下です。"),
    ("S2", "あの、此花区の四貫島に住んでるんですけど"),
    ("S1", "はい"),
    ("S2", "名前は山本"),
    ("S1", "な"),
    ("S2", "子です昭和38年5月12日"),
    ("S1", "分かりました。財政課長にも確認してお電話します。"),
]


def transcript() -> dict[str, Any]:
    segments = [
        Segment(start=3.0 * k, end=3.0 * k + 2.5, speaker=speaker, text=text)
        for k, (speaker, text) in enumerate(UTTERANCES)
    ]
    speakers = [Speaker(id="S1", name="保護課長"), Speaker(id="S2", name="相談者")]
    body = Transcript(duration=3.0 * len(segments), speakers=speakers, segments=segments, model="test")
    return body.to_json_dict()


def test_phone_call_candidates(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "生活保護の電話相談", transcript())
    with Session(site.engine) as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        recording.kind, recording.attendees, recording.place = "phone", "対応: 日下 相手: 山本", ""
        db.add(recording)
        db.commit()
    page = site.context(browser).new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{recording_id}/publication")
    page.click("#pub-create")

    items = page.locator("#cand-list > li")
    expect(items.filter(has_text="昭和38年5月12日").locator(".cand-kind")).to_have_text("生年月日", timeout=60_000)
    listed = [
        (item.locator(".cand-kind").inner_text(), item.locator(".cand-text").inner_text()) for item in items.all()
    ]
    # The caller: the name (its parts in three utterances), the birth date, the town they live in and
    # the name in the header.
    assert {("氏名", "山本"), ("生年月日", "昭和38年5月12日"), ("住所", "此花区の四貫島")} <= set(listed), listed
    assert listed.count(("氏名", "山本")) == 2  # the body and the header
    name = items.filter(has_text="山本").filter(has_text="発言")
    expect(name.locator(".cand-reason")).to_have_text("氏名らしい: 『名前は』の後")
    texts = " ".join(text for _, text in listed)
    # Not the staff member in their role, the title, the speaker labels or the header's labels.
    for never in ("日下", "保護課", "財政課長", "保護課長", "相談者", "対応", "相手"):
        assert never not in texts, (never, listed)
    body = page.locator("#pub-text")
    expect(body.locator('[data-target="segment.3"] mark')).to_have_text(["山本"])
    expect(body.locator('[data-target="segment.5"] mark')).to_have_text(["子", "昭和38年5月12日"])
    expect(body.locator('[data-target="segment.0"] mark')).to_have_count(0)
    expect(body.locator('[data-target="segment.6"] mark')).to_have_count(0)
    expect(body.locator(".pub-speaker mark")).to_have_count(0)
    # Each header row has its own label (no two rows called 記録の情報).
    labels = body.locator(".pub-header dt").all_inner_texts()
    assert "記録の情報" not in labels and "対応者・相手" in labels and len(set(labels)) == len(labels), labels
    shoot(page, shots, "45-publication-phone-call")
    assert errors == [], errors

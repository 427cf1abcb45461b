"""A phone call's record in a real browser (issue 22): the fields typed at upload (受付者, 相手方, 用件)
reach the editor's header, survive an edit, a save and a reload, and end up in the Word file, which
is named after the record; ケバ取り表示 no longer stops editing, and 整文 leaves the fillers out."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from playwright.sync_api import expect
from sqlmodel import Session, select

from service.models import Job, JobStatus, Recording, TranscriptRecord
from tests.conftest import SINGLE
from tests.service.test_record_exports import TRANSCRIPT
from tests.web.conftest import Site, log_in, shoot, watch_errors

pytestmark = pytest.mark.slow


def _finish(site: Site, recording_id: int) -> None:
    """What the worker does once the call is transcribed (recognition is tested elsewhere)."""
    with Session(site.engine) as db:
        db.add(TranscriptRecord(recording_id=recording_id, body=TRANSCRIPT, model="synthetic"))
        for job in db.exec(select(Job).where(Job.recording_id == recording_id)).all():
            job.status, job.stage, job.progress = JobStatus.succeeded, "done", 1.0
            job.finished_at = datetime.now(UTC)
            db.add(job)
        db.commit()


def test_phone_fields_survive_upload_editor_reload_and_docx(
    site_factory: Any, browser: Any, shots: Path, tmp_path: Path
) -> None:
    site: Site = site_factory()
    page = site.context(browser).new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path="/upload")

    page.get_by_label("電話").check()
    expect(page.locator("#held-at-label")).to_have_text("受付日時")
    expect(page.locator("#f-meeting-attendees")).to_be_hidden()
    page.set_input_files("#file-input", str(SINGLE))
    page.locator(".file-title input").fill("粗大ごみの収集日")
    page.fill("#f-phone-staff", "環境局 高橋")
    page.fill("#f-phone-counterpart", "北区の住民")
    page.fill("#f-phone-subject", "粗大ごみの収集日の問合せ")
    shoot(page, shots, "record-01-upload-phone")
    page.click("#start")
    expect(page.locator(".file-status").first).to_contain_text("登録しました", timeout=30_000)
    with Session(site.engine) as db:
        recording = db.exec(select(Recording).where(Recording.title == "粗大ごみの収集日")).one()
        assert recording.id is not None and recording.kind == "phone"
        recording_id = recording.id
    _finish(site, recording_id)

    page.goto(f"{site.base}/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#hf-staff")).to_have_value("環境局 高橋")
    expect(page.locator("#hf-counterpart")).to_have_value("北区の住民")
    expect(page.locator("#hf-subject")).to_have_value("粗大ごみの収集日の問合せ")
    expect(page.locator("#hf-held_at")).to_have_value(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日"))  # the call's time
    page.fill("#hf-handover", "収集センターに連絡済み")
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)

    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#hf-handover")).to_have_value("収集センターに連絡済み")
    expect(page.locator("#hf-staff")).to_have_value("環境局 高橋")

    # ケバ取り表示: fillers hidden, and the text can still be edited.
    page.click("#fillers")
    first = page.locator(".utt-text").first
    expect(first).not_to_have_attribute("contenteditable", "false")
    expect(first.locator(".filler").first).to_have_text("えー、")
    expect(first.locator(".filler").first).to_be_hidden()
    shoot(page, shots, "record-02-editor-phone")

    page.get_by_label("整文", exact=False).check()
    with page.expect_download() as download:
        page.click("#export-docx-top")
    assert re.fullmatch(r"\d{8}_粗大ごみの収集日_電話対応記録\.docx", download.value.suggested_filename)
    document = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert cells["受付者"] == "環境局 高橋" and cells["相手方"] == "北区の住民"
    assert cells["用件"] == "粗大ごみの収集日の問合せ" and cells["引継ぎ"] == "収集センターに連絡済み"
    assert re.match(r"\d{4}年", cells["受付日時"])
    body = [p.text for p in document.paragraphs if p.text.startswith("○")]
    assert body[0].startswith("○議長\u3000それでは") and not any("えー" in p for p in body)
    assert errors == []

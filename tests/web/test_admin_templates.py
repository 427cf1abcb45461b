"""記録のひな形 in a real browser (issue 22): an administrator uploads a department's Word template for
phone records at /admin/templates and chooses it; a clerk's export then keeps the template's styles and
gets the header fields in its placeholders; set aside, the built-in layout comes back."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Pt
from playwright.sync_api import expect
from sqlmodel import Session, select

from service.accounts import add_user
from service.models import Recording as RecordingRow
from service.models import Role, TranscriptRecord, User
from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.service.test_record_exports import SPEAKER_CHANGES, TRANSCRIPT, _template
from tests.web.conftest import DEPARTMENT, Site, log_in, shoot, watch_errors

pytestmark = pytest.mark.slow


def _phone_call(site: Site) -> int:
    with Session(site.engine) as db:
        clerk = db.exec(select(User).where(User.name == "web_clerk")).one()
        recording = RecordingRow(
            department_id=clerk.department_id,
            kind="phone",
            title="粗大ごみの収集日",
            fields={"counterpart": "北区の住民"},
            duration_seconds=34.0,
            uploaded_by_id=clerk.id,
        )
        db.add(recording)
        db.flush()
        assert recording.id is not None
        db.add(TranscriptRecord(recording_id=recording.id, body=TRANSCRIPT, model="synthetic"))
        db.commit()
        return recording.id


def test_admin_uploads_and_chooses_a_template(site_factory: Any, browser: Any, shots: Path, tmp_path: Path) -> None:
    site: Site = site_factory()
    with Session(site.engine) as db:
        add_user(db, "web_admin", Role.admin, DEPARTMENT, PASSWORD, display_name="管理 太郎")
    recording_id = _phone_call(site)
    template = tmp_path / "北区電話.docx"
    _template(template)

    page = site.context(browser).new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_admin", path="/admin/templates")
    expect(page.locator("h1")).to_have_text("記録のひな形(Word)")
    expect(page.locator("#tpl-rows")).to_contain_text("まだありません")
    page.select_option("#tpl-kind", "phone")
    page.select_option("#tpl-department", label=DEPARTMENT)
    page.set_input_files("#tpl-file", str(template))
    page.click("#tpl-submit")
    row = page.locator("#tpl-rows tr", has_text="北区電話.docx")
    expect(row).to_contain_text("電話対応記録")
    expect(row).to_contain_text(DEPARTMENT)
    expect(row.locator(".tpl-state")).to_have_text("使用中")
    shoot(page, shots, "record-03-admin-templates")

    clerk = api_login(site.base, "web_clerk", PASSWORD)
    exported = clerk.get(f"/api/v1/recordings/{recording_id}/export", params={"format": "docx"})
    assert exported.status_code == 200
    document = Document(io.BytesIO(exported.content))
    assert document.styles["Normal"].font.name == "BIZ UDP明朝 Medium"  # the template's styles kept
    assert document.styles["Normal"].font.size == Pt(12)
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "北区役所 電話対応記録" and texts[1].startswith("件名: 粗大ごみの収集日 / 受付: ")
    assert "北区の住民" in "".join(document.element.body.itertext())  # the content control tagged counterpart
    speech = [p for p in document.paragraphs if p.text.startswith("○")]
    assert len(speech) == SPEAKER_CHANGES + 1 and all(p.style is not None and p.style.name == "発言" for p in speech)

    # Chosen no more: the built-in layout again.
    row.get_by_role("button", name="使わない", exact=False).click()
    expect(row.locator(".tpl-state")).to_have_text("使っていない")
    plain = Document(io.BytesIO(clerk.get(f"/api/v1/recordings/{recording_id}/export").content))
    assert plain.paragraphs[0].text == "電話対応記録"
    row.get_by_role("button", name="使う", exact=False).first.click()
    expect(row.locator(".tpl-state")).to_have_text("使用中")

    # Clerks cannot reach the page or its API.
    other = site.context(browser).new_page()
    log_in(other, site.base, "web_clerk")
    other.goto(f"{site.base}/admin/templates")
    expect(other.locator("#tpl-form")).to_have_count(0)
    assert clerk.get("/api/v1/admin/templates").status_code == 403
    assert errors == []

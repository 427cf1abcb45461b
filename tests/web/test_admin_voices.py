"""管理 › 声の登録 in a real browser (issue 26): an administrator sees every department's registered
voices with who enrolled them, when, the consent record and how many voice samples they hold, and
deletes one (its samples go at once, audited); from 360 px each row is a card."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlmodel import Session, select

from service.models import AuditEvent, Department, User, VoiceEmbedding, VoiceProfile
from tests.web.conftest import DEPARTMENT, OTHER_DEPARTMENT, Site, log_in, shoot, watch_errors
from tests.web.test_admin_console import ADMIN, _admin_site, _open

CONSENT = "2026年4月1日、区長本人が書面で同意 (同意書は総務課で保管)"


def _enrol(site: Site, department: str, name: str, title: str, consent: str, by: str | None, samples: int) -> int:
    """A registered voice as ``service.voices.enrol`` leaves it (the samples are made-up vectors)."""
    with Session(site.engine) as db:
        dep = db.exec(select(Department).where(Department.name == department)).one()
        enroller = db.exec(select(User).where(User.name == by)).one() if by else None
        profile = VoiceProfile(
            department_id=dep.id or 0,
            name=name,
            title=title,
            consent=consent,
            enrolled_by_id=enroller.id if enroller else None,
        )
        db.add(profile)
        db.flush()
        for n in range(samples):
            db.add(VoiceEmbedding(profile_id=profile.id or 0, vector=[0.1 * n, 0.2, 0.3], encoder="test"))
        db.commit()
        return profile.id or 0


def test_an_administrator_sees_the_registry_per_department_and_deletes_a_voice(
    site_factory: Callable[..., Site], browser: Any, shots: Path
) -> None:
    site = _admin_site(site_factory)
    mayor = _enrol(site, DEPARTMENT, "区長", "北区長", CONSENT, "web_manager", 2)
    _enrol(site, DEPARTMENT, "総務課長", "", "本人が口頭で同意 (2026年4月3日)", "web_clerk", 1)
    _enrol(site, OTHER_DEPARTMENT, "税務部長", "", "本人が書面で同意", None, 3)

    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    log_in(page, site.base, ADMIN)

    # The console's menu leads to 声の登録.
    page.goto(f"{site.base}/admin")
    expect(page.locator(".admin-home h2", has_text="声の登録")).to_have_count(1)
    page.click(".admin-nav a:has-text('声の登録')")
    page.wait_for_url(f"{site.base}/admin/voices")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator(".admin-nav a[aria-current='page']")).to_have_text("声の登録")
    expect(page.locator("h1")).to_have_text("管理: 声の登録")

    # One table per department, each row with who enrolled it, the consent record and its samples.
    kita = page.locator(f"section[data-department='{DEPARTMENT}']")
    expect(kita.get_by_role("heading", name=DEPARTMENT)).to_be_visible()
    expect(kita.locator("tbody tr")).to_have_count(2)
    row = kita.locator("tr[data-voice='区長']")
    expect(row.locator("td[data-label='役職']")).to_have_text("北区長")
    expect(row.locator("td[data-label='登録した人']")).to_have_text("鈴木 課長 (web_manager)")
    expect(row.locator("td[data-label='同意の記録']")).to_have_text(CONSENT)
    expect(row.locator("td[data-label='声の特徴量']")).to_have_text("2 件")
    expect(row.locator("td[data-label='登録日時']")).not_to_have_text("")
    other = page.locator(f"section[data-department='{OTHER_DEPARTMENT}']")
    expect(other.locator("tr[data-voice='税務部長'] td[data-label='登録した人']")).to_have_text("—")
    expect(other.locator("tr[data-voice='税務部長'] td[data-label='声の特徴量']")).to_have_text("3 件")
    shoot(page, shots, "49-admin-voices")

    # 削除 asks first, saying the voice data goes at once; then the row and its samples are gone.
    row.get_by_role("button", name="区長 の声を削除").click()
    expect(page.locator("#admin-message")).to_contain_text("区長 の声を削除しました。")
    assert len(questions) == 1 and "すぐに削除" in questions[0] and "元に戻せません" in questions[0]
    expect(kita.locator("tr[data-voice='区長']")).to_have_count(0)
    expect(kita.locator("tbody tr")).to_have_count(1)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("tr[data-voice='区長']")).to_have_count(0)
    with Session(site.engine) as db:
        assert db.get(VoiceProfile, mayor) is None
        assert not db.exec(select(VoiceEmbedding).where(VoiceEmbedding.profile_id == mayor)).all()
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "voice.delete")).all()
        assert [e.detail for e in events] == [f"profile {mayor}"]

    # From 360 px: each voice is a card and nothing scrolls sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    _open(page, site, "voices")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("tr[data-voice='総務課長'] td[data-label='同意の記録']")).to_be_visible()
    shoot(page, shots, "49-admin-voices-360")
    assert errors == []
    context.close()

"""管理 in a real browser against `kiroku serve`: an administrator runs every section of the console
(users with one-time passwords, departments with caps, devices with a key shown once, API tokens,
retention, the audit log and its CSV), from a 1280 px and a 360 px window; clerks and managers get
the 403 page, and everyone changes their own password from the user menu."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlmodel import Session, select

from service.accounts import add_user
from service.models import AuditEvent, Department, Device, Role, User
from tests.service.conftest import PASSWORD
from tests.web.conftest import DEPARTMENT, OTHER_DEPARTMENT, Site, log_in, shoot, watch_errors

ADMIN = "web_admin"
DEVICE_RECORDINGS = "/api/v1/uploads/recordings"


def _can_log_in(base: str, name: str, password: str) -> bool:
    with httpx.Client(base_url=base, timeout=30) as client:
        return client.post("/api/v1/auth/login", json={"username": name, "password": password}).status_code == 200


def _admin_site(site_factory: Callable[..., Site]) -> Site:
    site = site_factory()
    with Session(site.engine) as db:
        add_user(db, ADMIN, Role.admin, "デジタル統括室", PASSWORD, display_name="情報 管理者")
    return site


def _open(page: Any, site: Site, section: str) -> None:
    page.goto(f"{site.base}/admin/{section}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def _once(page: Any) -> str:
    """The secret the console shows once; closing the box forgets it."""
    box = page.locator("#once")
    expect(box).to_be_visible()
    expect(box).to_be_focused()
    value = str(page.locator("#once-value").text_content()).strip()
    page.click("#once-close")
    expect(box).to_be_hidden()
    return value


def _said(page: Any, text: str) -> None:
    expect(page.locator("#admin-message")).to_contain_text(text)
    expect(page.locator("#admin-error")).to_be_hidden()


def test_an_administrator_runs_every_section(site_factory: Callable[..., Site], browser: Any, shots: Path) -> None:
    site = _admin_site(site_factory)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, site.base, ADMIN)

    # The menu has 管理; its home lists the sections and the Word templates' page.
    page.click(".site-nav a:has-text('管理')")
    page.wait_for_url(f"{site.base}/admin")
    expect(page.locator(".site-nav a[aria-current='page']")).to_have_text("管理")
    for title in ("利用者", "部署", "会議室機器", "API トークン", "保存期間", "声の登録", "監査ログ"):
        expect(page.locator(".admin-home h2", has_text=title)).to_have_count(1)
    expect(page.locator(".admin-nav a[href='/admin/templates']")).to_have_text("文書テンプレート")
    shoot(page, shots, "40-admin-home")

    # 利用者: add with a one-time password shown once; it works, and only the admin saw it.
    _open(page, site, "users")
    page.fill("#user-name", "kobayashi")
    page.fill("#user-display", "小林 三郎")
    page.select_option("#user-role", "clerk")
    page.select_option("#user-department", DEPARTMENT)
    page.click("#user-form button[type=submit]")
    _said(page, "kobayashi を追加しました")
    first = _once(page)
    assert len(first) == 16 and _can_log_in(site.base, "kobayashi", first)
    expect(page.locator("#once-value")).to_have_text("")
    row = page.locator("tr[data-user='kobayashi']")
    expect(row).to_contain_text("小林 三郎")
    shoot(page, shots, "41-admin-users")

    # A full-width name is refused with the reason, in Japanese.
    page.fill("#user-name", "ｋｏｂａｙａｓｈｉ")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#admin-error")).to_contain_text("半角")

    # Reset: a new one-time password; the old one stops working.
    page.locator("tr[data-user='web_clerk'] button", has_text="パスワード再発行").click()
    _said(page, "パスワードを再発行しました")
    reset = _once(page)
    assert _can_log_in(site.base, "web_clerk", reset) and not _can_log_in(site.base, "web_clerk", PASSWORD)

    # Deactivate and reactivate.
    page.locator("tr[data-user='web_clerk2'] button", has_text="無効にする").click()
    _said(page, "無効にしました")
    expect(page.locator("tr[data-user='web_clerk2']")).to_contain_text("無効")
    assert not _can_log_in(site.base, "web_clerk2", PASSWORD)
    page.locator("tr[data-user='web_clerk2'] button", has_text="有効に戻す").click()
    _said(page, "有効に戻しました")
    assert _can_log_in(site.base, "web_clerk2", PASSWORD)

    # Role and department.
    row = page.locator("tr[data-user='kobayashi']")
    row.locator("select.role-select").select_option("manager")
    row.locator("select.department-select").select_option(label=OTHER_DEPARTMENT)
    row.locator("button", has_text="変更を保存").click()
    _said(page, "役割と部署を保存しました")
    with Session(site.engine) as db:
        moved = db.exec(select(User).where(User.name == "kobayashi")).one()
        department = db.get(Department, moved.department_id)
        assert moved.role == "manager" and department is not None and department.name == OTHER_DEPARTMENT

    # 部署: add, rename, a monthly cap, retire.
    _open(page, site, "departments")
    page.fill("#department-name", "環境局 環境管理課")
    page.click("#department-form button[type=submit]")
    _said(page, "追加しました")
    row = page.locator("tr[data-department='環境局 環境管理課']")
    row.locator("input[type=text]").fill("環境局 環境課")
    row.locator("button", has_text="名前を変更").click()
    _said(page, "環境局 環境課")
    row = page.locator("tr[data-department='環境局 環境課']")
    row.locator("input.cap-input").fill("50")
    row.locator("button", has_text="上限を保存").click()
    _said(page, "50 時間")
    page.locator("tr[data-department='環境局 環境課'] button", has_text="廃止する").click()
    _said(page, "廃止しました")
    expect(page.locator("tr[data-department='環境局 環境課']")).to_contain_text("廃止")
    with Session(site.engine) as db:
        retired = db.exec(select(Department).where(Department.name == "環境局 環境課")).one()
        assert retired.monthly_cap_hours == 50 and retired.retired_at is not None
    shoot(page, shots, "42-admin-departments")

    # 会議室機器: the key once, then the list; revoke.
    _open(page, site, "devices")
    page.fill("#device-name", "=SUM(1,2)")  # a name that would be a formula in Excel
    page.select_option("#device-department", DEPARTMENT)
    page.click("#device-form button[type=submit]")
    _said(page, "登録しました")
    key = _once(page)
    assert key.startswith("kd_")
    device_row = page.locator("tr[data-device='=SUM(1,2)']")
    expect(device_row).to_contain_text("0 件")
    expect(device_row).to_contain_text("有効")
    with httpx.Client(base_url=site.base, timeout=30, headers={"X-Device-Key": key}) as agent:
        # The device asks whether the server has one of its recordings: the key is accepted (404: not yet)…
        assert agent.get(f"{DEVICE_RECORDINGS}/rec-1").status_code == 404
        device_row.locator("button", has_text="キーを無効にする").click()
        _said(page, "無効にしました")
        expect(page.locator("tr[data-device='=SUM(1,2)']")).to_contain_text("無効")
        assert agent.get(f"{DEVICE_RECORDINGS}/rec-1").status_code == 401  # …and refused once revoked
    shoot(page, shots, "43-admin-devices")

    # API トークン: issue for a clerk, filter by owner, revoke.
    _open(page, site, "tokens")
    expect(page.locator("#token-days")).to_have_value("365")
    page.select_option("#token-user", "web_manager")
    page.fill("#token-label", "電話録音の自動送信")
    page.fill("#token-days", "30")
    page.click("#token-form button[type=submit]")
    _said(page, "トークンを発行しました")
    token = _once(page)
    with httpx.Client(base_url=site.base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/v1/auth/me").json()["name"] == "web_manager"
        page.select_option("#token-owner", "web_manager")
        token_row = page.locator("#tokens-rows tr", has_text="電話録音の自動送信")
        expect(token_row).to_contain_text("有効")
        token_row.locator("button", has_text="無効にする").click()
        _said(page, "トークンを無効にしました")
        expect(page.locator("#tokens-rows tr", has_text="電話録音の自動送信")).to_contain_text("無効")
        assert script.get("/api/v1/auth/me").status_code == 401
    shoot(page, shots, "44-admin-tokens")

    # 保存期間: what the settings say, read-only.
    _open(page, site, "retention")
    expect(page.locator("#retention")).to_contain_text("90 日")
    expect(page.locator("#retention")).to_contain_text("KIROKU_RETENTION_DAYS")
    expect(page.locator("#retention input")).to_have_count(0)

    # 監査ログ: every action above is on it; filters; the CSV opens in Excel as text.
    with Session(site.engine) as db:  # what the device's uploads leave on the trail
        device = db.exec(select(Device).where(Device.name == "=SUM(1,2)")).one()
        db.add(AuditEvent(device_id=device.id, action="recording.upload", detail="+cmd|calc", ip="127.0.0.1"))
        db.commit()
    _open(page, site, "audit")
    rows = page.locator("#audit-rows")
    for action in ("利用者の追加", "パスワードの再発行", "利用者の無効化", "利用者の再有効化", "利用者の変更"):
        expect(rows).to_contain_text(action)
    for action in ("部署の追加", "部署名の変更", "月の上限の変更", "部署の廃止", "機器の登録", "機器キーの無効化"):
        expect(rows).to_contain_text(action)
    expect(rows).to_contain_text("トークンの発行")
    expect(rows).to_contain_text("トークンの無効化")
    page.select_option("#audit-action", "admin.device_add")
    page.click("#audit-form button[type=submit]")
    expect(page.locator("#audit-count")).to_have_text("1 件")
    expect(rows.locator("tr")).to_have_count(1)
    page.select_option("#audit-action", "")
    page.select_option("#audit-user", ADMIN)
    page.fill("#audit-until", "2001-01-01")
    page.click("#audit-form button[type=submit]")
    expect(page.locator("#audit-count")).to_have_text("0 件")
    page.fill("#audit-until", "")
    page.select_option("#audit-user", "")
    page.click("#audit-form button[type=submit]")
    expect(rows).to_contain_text("=SUM(1,2)")
    shoot(page, shots, "45-admin-audit")
    with page.expect_download() as waiting:
        page.click("#audit-export")
    saved = waiting.value.path()
    table = list(csv.reader(io.StringIO(Path(saved).read_text(encoding="utf-8-sig"))))
    cells = [cell for line in table[1:] for cell in line]
    assert "'=SUM(1,2)" in cells and "'+cmd|calc" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]

    # From 360 px: every section fits the window (tables become one card per row).
    page.set_viewport_size({"width": 360, "height": 740})
    for section in ("users", "departments", "devices", "tokens", "retention", "voices", "audit"):
        _open(page, site, section)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (section, width)
    _open(page, site, "users")
    expect(page.locator("tr[data-user='kobayashi'] td[data-label='役割']")).to_be_visible()
    shoot(page, shots, "46-admin-users-360")
    assert errors == []
    context.close()


def test_clerks_and_managers_get_403_and_everyone_changes_their_password(
    site_factory: Callable[..., Site], browser: Any, shots: Path
) -> None:
    site = site_factory()
    for user in ("web_clerk", "web_manager"):
        context = site.context(browser)
        page = context.new_page()
        log_in(page, site.base, user)
        expect(page.locator(".site-nav a", has_text="管理")).to_have_count(0)
        for path in ("/admin", "/admin/users", "/admin/audit"):
            response = page.goto(f"{site.base}{path}")
            assert response is not None and response.status == 403, (user, path)
            expect(page.locator("main h1")).to_have_text("このページは管理者だけが使えます")
            expect(page.locator("#users-rows")).to_have_count(0)
        assert page.request.get(f"{site.base}/api/v1/admin/users").status == 403
        context.close()

    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk")
    page.click("#password-link")
    page.wait_for_url(f"{site.base}/account/password")
    page.fill("#current-password", "not-my-password")
    page.fill("#new-password", "a-brand-new-pass")
    page.fill("#new-password-again", "a-brand-new-pass")
    page.click("#password-submit")
    expect(page.locator("#password-error")).to_contain_text("今のパスワードが違います")
    page.fill("#current-password", PASSWORD)
    page.fill("#new-password", "a-brand-new-pass")
    page.fill("#new-password-again", "a-brand-new-pas")
    page.click("#password-submit")
    expect(page.locator("#password-error")).to_contain_text("一致しません")
    page.fill("#new-password-again", "a-brand-new-pass")
    page.click("#password-submit")
    expect(page.locator("#password-done")).to_contain_text("パスワードを変更しました")
    shoot(page, shots, "48-password")
    page.goto(f"{site.base}/")  # still signed in here
    expect(page.locator(".user-name")).to_have_text("山田 花子")
    assert _can_log_in(site.base, "web_clerk", "a-brand-new-pass")
    assert not _can_log_in(site.base, "web_clerk", PASSWORD)
    assert [e for e in errors if not re.search(r"status of 403", e)] == []
    context.close()


def test_console_pages_without_a_browser(engine: Any) -> None:
    """Signed out: the login page first (and back here after); the admin's menu has 管理, others' not."""
    from fastapi.testclient import TestClient

    from kiroku.webapp import build_app

    with Session(engine) as db:
        add_user(db, ADMIN, Role.admin, "デジタル統括室", PASSWORD)
        add_user(db, "page_clerk", Role.clerk, DEPARTMENT, PASSWORD)
    app = build_app()
    anonymous = TestClient(app, follow_redirects=False)
    for path in ("/admin", "/admin/users", "/admin/audit", "/account/password"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2F"), path
    admin = TestClient(app, follow_redirects=False)
    admin.post("/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD})
    home = admin.get("/admin")
    assert home.status_code == 200 and 'href="/admin"' in home.text and "script-src 'self'" in str(home.headers)
    assert admin.get("/account/password").status_code == 200
    clerk = TestClient(app, follow_redirects=False)
    clerk.post("/api/v1/auth/login", json={"username": "page_clerk", "password": PASSWORD})
    listing = clerk.get("/")
    assert 'href="/admin"' not in listing.text and 'href="/account/password"' in listing.text
    assert clerk.get("/admin/devices").status_code == 403

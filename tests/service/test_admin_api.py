"""The account lifecycle through the API, on both backends: everyone's own password, an admin's
users (one-time passwords, reset, deactivate and reactivate, role and department), departments
(rename, retire, caps), API tokens that expire and can be revoked, and the audit log (filters, a CSV
export whose cells a spreadsheet never runs as formulas)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.models import ApiToken, AuditEvent, Device, User, utcnow
from tests.service.conftest import PASSWORD, World

KITA, ZAISEI, DIGITAL = "北区役所 保健福祉課", "財政局 税務部", "デジタル統括室"
A = "/api/v1/admin"


def _login(world: World, name: str, password: str) -> TestClient:
    client = TestClient(world.app)  # type: ignore[arg-type]
    response = client.post("/api/v1/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def _can_log_in(world: World, name: str, password: str) -> bool:
    client = TestClient(world.app)  # type: ignore[arg-type]
    return client.post("/api/v1/auth/login", json={"username": name, "password": password}).status_code == 200


def _actions(world: World) -> list[str]:
    with Session(world.engine) as db:
        return [e.action for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]


def _user_id(world: World, name: str) -> int:
    with Session(world.engine) as db:
        found = db.exec(select(User.id).where(User.name == name)).one()
        assert found is not None
        return found


def test_everyone_changes_their_own_password_and_other_sessions_end(world: World) -> None:
    here, elsewhere = world.client("clerk_kita"), world.client("clerk_kita")
    wrong = here.post("/api/v1/auth/password", json={"current_password": "nope-nope", "new_password": "x" * 12})
    assert wrong.status_code == 403 and "今のパスワード" in wrong.json()["detail"]
    short = here.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    assert _can_log_in(world, "clerk_kita", PASSWORD)

    changed = here.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "new-secret-42"})
    assert changed.status_code == 204, changed.text
    assert here.get("/api/v1/auth/me").status_code == 200  # this session stays
    assert elsewhere.get("/api/v1/auth/me").status_code == 401  # the other device is signed out
    assert not _can_log_in(world, "clerk_kita", PASSWORD)
    assert _can_log_in(world, "clerk_kita", "new-secret-42")
    assert "auth.password_change" in _actions(world)
    assert world.client().post("/api/v1/auth/password", json={}).status_code == 401


def test_admin_adds_resets_deactivates_and_reactivates_a_user(world: World) -> None:
    admin = world.client("root_admin")
    created = admin.post(f"{A}/users", json={"name": "tanaka", "role": "clerk", "department": KITA})
    assert created.status_code == 201, created.text
    first = created.json()["password"]
    assert first and len(first) >= 12
    assert _can_log_in(world, "tanaka", first)
    listed = {u["name"]: u for u in admin.get(f"{A}/users").json()}
    assert listed["tanaka"]["department"] == KITA and "password" not in listed["tanaka"]

    tanaka = _login(world, "tanaka", first)
    user_id = created.json()["id"]
    reset = admin.post(f"{A}/users/{user_id}/password")
    assert reset.status_code == 200
    second = reset.json()["password"]
    assert second != first
    assert tanaka.get("/api/v1/auth/me").status_code == 401  # signed out by the reset
    assert not _can_log_in(world, "tanaka", first) and _can_log_in(world, "tanaka", second)

    tanaka = _login(world, "tanaka", second)
    assert admin.post(f"{A}/users/{user_id}/deactivate").json() == {"id": user_id, "active": False}
    assert tanaka.get("/api/v1/auth/me").status_code == 401
    assert not _can_log_in(world, "tanaka", second)
    assert admin.post(f"{A}/users/{user_id}/activate").json() == {"id": user_id, "active": True}
    assert _can_log_in(world, "tanaka", second)

    zaisei = next(d["id"] for d in admin.get(f"{A}/departments").json() if d["name"] == ZAISEI)
    moved = admin.patch(f"{A}/users/{user_id}", json={"role": "manager", "department_id": zaisei})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["role"], moved.json()["department"]) == ("manager", ZAISEI)
    me = _login(world, "tanaka", second).get("/api/v1/auth/me").json()
    assert (me["role"], me["department"]) == ("manager", ZAISEI)
    for action in ("admin.user_add", "admin.user_password_reset", "admin.user_deactivate", "admin.user_activate"):
        assert action in _actions(world)
    assert "admin.user_edit" in _actions(world)


def test_names_are_checked_in_one_place_and_the_last_admin_stays(world: World) -> None:
    admin = world.client("root_admin")
    # full-width, a space, a Cyrillic і, empty, and a leading - or @ (an option to the CLI, a formula in Excel)
    for name in ("ｖｉｃｔｉｍ", "clerk kita", "vіctim", "", "-rf", "@sum"):
        body = {"name": name, "role": "clerk", "department": KITA}
        assert admin.post(f"{A}/users", json=body).status_code == 422, name
    look_alike = admin.post(f"{A}/users", json={"name": "Clerk_Kita", "role": "clerk", "department": KITA})
    assert look_alike.status_code == 409
    assert admin.post(f"{A}/users/{_user_id(world, 'root_admin')}/deactivate").status_code == 409  # oneself
    # The first admin is the only other one: once it is gone, root_admin is the last and cannot be demoted.
    assert admin.post(f"{A}/users/{_user_id(world, 'admin')}/deactivate").status_code == 200
    other = world.client("root_admin")
    with Session(world.engine) as db:
        db.add(User(name="helper", role="admin", department_id=1, password_hash="", active=True))
        db.commit()
    helper_id = _user_id(world, "helper")
    assert other.post(f"{A}/users/{helper_id}/deactivate").status_code == 200
    assert admin.patch(f"{A}/users/{_user_id(world, 'root_admin')}", json={"role": "clerk"}).status_code == 409


def test_departments_are_renamed_retired_and_capped(world: World) -> None:
    admin = world.client("root_admin")
    added = admin.post(f"{A}/departments", json={"name": "環境局 ２課"})  # full-width digit folded
    assert added.status_code == 201 and added.json()["name"] == "環境局 2課"
    assert admin.post(f"{A}/departments", json={"name": "環境局 2課"}).status_code == 409
    dep = added.json()["id"]
    renamed = admin.patch(f"{A}/departments/{dep}", json={"name": "環境局 環境管理課"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "環境局 環境管理課"
    assert admin.put(f"/api/v1/usage/caps/{dep}", json={"monthly_cap_hours": 40}).status_code == 200
    listed = {d["id"]: d for d in admin.get(f"{A}/departments").json()}
    assert listed[dep]["monthly_cap_hours"] == 40

    kita = next(d for d in listed.values() if d["name"] == KITA)
    refused = admin.post(f"{A}/departments/{kita['id']}/retire")
    assert refused.status_code == 409 and "利用者" in refused.json()["detail"]
    retired = admin.post(f"{A}/departments/{dep}/retire")
    assert retired.status_code == 200 and retired.json()["retired_at"]
    body = {"name": "newbie", "role": "clerk", "department": "環境局 環境管理課"}
    assert admin.post(f"{A}/users", json=body).status_code == 409  # no new user in a retired department
    assert admin.post(f"{A}/departments/{dep}/reinstate").json()["retired_at"] is None
    assert admin.post(f"{A}/users", json=body).status_code == 201
    for action in ("admin.department_add", "admin.department_rename", "admin.department_retire", "admin.cap"):
        assert action in _actions(world)


def test_api_tokens_expire_and_are_revoked(world: World) -> None:
    admin = world.client("root_admin")
    issued = admin.post(f"{A}/tokens", json={"user": "clerk_kita", "label": "電話録音", "days": 30})
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    bearer = TestClient(world.app, headers={"Authorization": f"Bearer {token}"})  # type: ignore[arg-type]
    assert bearer.get("/api/v1/auth/me").json()["name"] == "clerk_kita"

    listed = admin.get(f"{A}/tokens", params={"owner": "clerk_kita"}).json()
    assert [(t["owner"], t["label"], t["usable"]) for t in listed] == [("clerk_kita", "電話録音", True)]
    expires = listed[0]["expires_at"]
    assert expires is not None
    assert admin.get(f"{A}/tokens", params={"owner": "manager_kita"}).json() == []

    with Session(world.engine) as db:  # thirty days later
        row = db.get(ApiToken, listed[0]["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
        db.commit()
    assert bearer.get("/api/v1/auth/me").status_code == 401
    assert admin.get(f"{A}/tokens").json()[0]["usable"] is False

    again = admin.post(f"{A}/tokens", json={"user": "clerk_kita"}).json()["token"]
    other = TestClient(world.app, headers={"Authorization": f"Bearer {again}"})  # type: ignore[arg-type]
    assert other.get("/api/v1/auth/me").status_code == 200
    newest = max(admin.get(f"{A}/tokens").json(), key=lambda t: t["id"])
    assert newest["expires_at"]  # the default lifetime applies
    assert admin.post(f"{A}/tokens/{newest['id']}/revoke").status_code == 200
    assert other.get("/api/v1/auth/me").status_code == 401
    assert {"admin.token_add", "admin.token_revoke"} <= set(_actions(world))


def test_devices_show_uploads_and_retention_is_read_only(world: World) -> None:
    admin = world.client("root_admin")
    created = admin.post(f"{A}/devices", json={"name": "第1会議室", "department": KITA})
    assert created.status_code == 201 and created.json()["key"].startswith("kd_")
    device = next(d for d in admin.get(f"{A}/devices").json() if d["id"] == created.json()["id"])
    assert (device["department"], device["uploads"], device["active"], device["last_seen_at"]) == (KITA, 0, True, None)
    retention = admin.get(f"{A}/retention").json()
    assert retention["retention_days"] == 90 and retention["api_token_days"] == 365
    assert admin.put(f"{A}/retention", json={"retention_days": 1}).status_code == 405


def test_audit_log_filters_and_exports_formula_safe_csv(world: World) -> None:
    admin = world.client("root_admin")
    evil_device = '=HYPERLINK("http://evil","x")'
    added = admin.post(f"{A}/devices", json={"name": evil_device, "department": KITA})
    assert added.status_code == 201
    with Session(world.engine) as db:  # the device uploads: its name is on the audit trail
        device = db.get(Device, added.json()["id"])
        assert device is not None
        db.add(AuditEvent(device_id=device.id, action="recording.upload", detail="+cmd|calc", ip="127.0.0.1"))
        db.add(AuditEvent(action="test.event", detail="-1+2", ip="\t10.0.0.1"))
        db.commit()
    assert admin.post(f"{A}/users", json={"name": "sato", "role": "clerk", "department": KITA}).status_code == 201

    page = admin.get(f"{A}/audit", params={"action": "admin.device_add"}).json()
    assert page["total"] == 1 and page["items"][0]["user"] == "root_admin"
    assert "admin.device_add" in page["actions"]
    prefix = admin.get(f"{A}/audit", params={"action": "admin."}).json()
    assert {i["action"] for i in prefix["items"]} >= {"admin.device_add", "admin.user_add"}
    assert all(i["action"].startswith("admin.") for i in prefix["items"])
    mine = admin.get(f"{A}/audit", params={"user": "root_admin"}).json()
    assert mine["total"] >= 3 and {i["user"] for i in mine["items"]} == {"root_admin"}
    today = utcnow().date()
    assert admin.get(f"{A}/audit", params={"until": str(today - timedelta(days=2))}).json()["total"] == 0
    assert admin.get(f"{A}/audit", params={"since": str(today - timedelta(days=1))}).json()["total"] >= 4
    assert admin.get(f"{A}/audit", params={"since": "0001-01-01"}).status_code == 422
    assert admin.get(f"{A}/audit", params={"limit": "0"}).status_code == 422

    exported = admin.get(f"{A}/audit/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日時 (UTC)", "操作", "利用者"]
    cells = [c for row in rows[1:] for c in row]
    assert "'" + evil_device in cells and "'+cmd|calc" in cells and "'-1+2" in cells and "'\t10.0.0.1" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "admin.audit_export" in _actions(world)


@pytest.mark.parametrize("role", ["clerk_kita", "manager_kita"])
def test_console_api_is_for_admins_only(world: World, role: str) -> None:
    client = world.client(role)
    for path in ("/users", "/tokens", "/retention", "/audit", "/audit/export"):
        assert client.get(f"{A}{path}").status_code == 403, path
    assert client.post(f"{A}/users/1/password").status_code == 403

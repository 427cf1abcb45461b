"""The page routes without a browser: who is sent to the login page, what each role sees, security
headers, static assets, the names endpoint, and GET of one minutes revision (access and audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.accounts import add_user
from service.models import AuditEvent, Role
from tests.service.conftest import PASSWORD
from tests.web.conftest import DEPARTMENT, OTHER_DEPARTMENT
from tests.web.transcripts import meeting, store_finished


@pytest.fixture
def app(engine: Engine) -> Any:
    from kiroku.webapp import build_app

    with Session(engine) as db:
        add_user(db, "page_clerk", Role.clerk, DEPARTMENT, PASSWORD, display_name="山田 花子")
        add_user(db, "page_clerk2", Role.clerk, DEPARTMENT, PASSWORD, display_name="佐藤 次郎")
        add_user(db, "page_manager", Role.manager, DEPARTMENT, PASSWORD)
        add_user(db, "page_other", Role.clerk, OTHER_DEPARTMENT, PASSWORD, display_name="他部署")
    return build_app()


def _client(app: Any, user: str | None = None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if user:
        response = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_signed_out_visitors_go_to_the_login_page(app: Any) -> None:
    client = _client(app)
    for path, target in (
        ("/", "/login?next=%2F"),
        ("/upload", "/login?next=%2Fupload"),
        ("/recordings/1", "/login?next=%2Frecordings%2F1"),
        ("/dictionaries?id=3", "/login?next=%2Fdictionaries%3Fid%3D3"),
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == target
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text and "ログイン" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/web/people").status_code == 401


def test_login_never_sends_people_to_another_site(app: Any) -> None:
    client = _client(app)
    for target in ("//evil.example/", "https://evil.example/", "/api/v1/auth/me", "\\\\evil"):
        assert '"next": "/"' in client.get("/login", params={"next": target}).text, target
    assert '"next": "/recordings/3"' in client.get("/login", params={"next": "/recordings/3"}).text


def test_pages_for_a_clerk(app: Any) -> None:
    client = _client(app, "page_clerk")
    listing = client.get("/")
    assert listing.status_code == 200
    assert "記録一覧" in listing.text and "山田 花子" in listing.text and DEPARTMENT in listing.text
    assert 'href="/usage"' not in listing.text  # the usage page is for managers
    assert client.get("/usage").status_code == 403  # the page says it is for managers
    upload = client.get("/upload")
    assert upload.status_code == 200 and ".flac" in upload.text
    assert client.get("/dictionaries").status_code == 200
    assert client.get("/login").status_code == 303  # signed in already
    assert client.get("/recordings/424242").status_code == 404
    manager = _client(app, "page_manager")
    assert 'href="/usage"' in manager.get("/").text
    assert manager.get("/usage").status_code == 200


def test_static_assets_are_revalidated(app: Any) -> None:
    client = _client(app)
    script = client.get("/static/js/editor.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert client.get("/static/css/kiroku.css").status_code == 200
    assert client.get("/static/../pages.py").status_code == 404


def test_names_are_the_departments_only(app: Any) -> None:
    names = _client(app, "page_clerk").get("/web/people").json()
    assert set(names["users"].values()) == {"山田 花子", "佐藤 次郎", "page_manager"}


def test_editor_page_and_one_revision(app: Any, engine: Engine, tmp_path: Path) -> None:
    recording_id = store_finished(engine, tmp_path, "page_clerk", "版の確認", meeting(3))
    clerk, other = _client(app, "page_clerk"), _client(app, "page_other")
    page = clerk.get(f"/recordings/{recording_id}")
    assert page.status_code == 200 and "議題" in page.text  # the meeting's header fields
    assert other.get(f"/recordings/{recording_id}").status_code == 404

    base = f"/api/v1/recordings/{recording_id}/minutes"
    first = clerk.get(base).json()
    first["header"]["agenda"] = "一回目"
    assert clerk.put(base, json=first, headers={"If-Match": '"r0"'}).status_code == 200
    first["header"]["agenda"] = "二回目"
    assert clerk.put(base, json=first, headers={"If-Match": '"r1"'}).status_code == 200

    one = clerk.get(f"{base}/revisions/1")
    assert one.status_code == 200
    assert one.json()["revision"] == 1 and one.json()["header"]["agenda"] == "一回目"
    assert one.json()["author_id"] is not None
    machine = clerk.get(f"{base}/revisions/0").json()
    assert machine["header"]["title"] == "版の確認" and len(machine["transcript"]["segments"]) == 3
    assert clerk.get(f"{base}/revisions/9").status_code == 404
    assert clerk.get(f"{base}/revisions/-1").status_code == 422
    assert clerk.get(f"{base}/revisions/99999999999").status_code == 422
    assert other.get(f"{base}/revisions/1").status_code == 404  # another department's: as if absent
    with Session(engine) as db:
        views = db.exec(
            select(AuditEvent.detail).where(
                AuditEvent.recording_id == recording_id,
                AuditEvent.action == "recording.view",
                col(AuditEvent.detail).startswith("revision "),
            )
        ).all()
    assert sorted(views) == ["revision 0", "revision 1"]

"""Offline API documentation, and the Japanese 404/403 pages for page addresses (the API keeps JSON)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import SESSION_COOKIE
from tests.service.conftest import PASSWORD, World


def _site(world: World, user: str | None = None) -> TestClient:
    from kiroku.webapp import build_app

    client = TestClient(build_app())
    if user is not None:
        login = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert login.status_code == 200 and SESSION_COOKIE in client.cookies
    return client


def test_the_api_docs_need_no_other_host(world: World) -> None:
    client = _site(world)
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
        links = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert links and all(link.startswith("/") and not link.startswith("//") for link in links), links
        # Nothing fetched at run time from elsewhere (a CDN, Google Fonts, the Swagger validator).
        assert not re.search(r"https?://(?!localhost|127\.0\.0\.1)", response.text), page
        for link in links:
            asset = client.get(link)
            assert asset.status_code == 200 and len(asset.content) > 1000, link
    assert '"validatorUrl": null' in client.get("/docs").text


def test_unknown_pages_answer_the_japanese_404_page(world: World) -> None:
    anonymous = _site(world)
    for path in ("/users", "/devices", "/no/such/page"):
        response = anonymous.get(path)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"], path
        assert "ページが見つかりません" in response.text and "Content-Security-Policy" in response.headers
    clerk = _site(world, "clerk_kita")
    signed_in = clerk.get("/devices")
    assert signed_in.status_code == 404 and "ページが見つかりません" in signed_in.text
    assert "記録一覧" in signed_in.text and "clerk_kita" in signed_in.text  # the navigation of the signed-in
    missing_record = clerk.get("/recordings/999999")
    assert missing_record.status_code == 404 and "記録が見つかりません" in missing_record.text
    # The API and its files keep their own answers.
    api = clerk.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    assert clerk.get("/api/v1/recordings/999999").json()["code"] == "not_found"
    assert "text/html" not in clerk.get("/static/no-such-file.js").headers.get("content-type", "")


def test_the_forbidden_page_is_in_japanese(world: World) -> None:
    from web.pages import render_error_page

    with Session(world.engine) as db:
        html = render_error_page(403, None, db)
        assert "この画面を表示する権限がありません" in html and "管理者" in html
        custom = render_error_page(403, None, db, heading="管理の画面は管理者だけが使えます")
        assert "管理の画面は管理者だけが使えます" in custom

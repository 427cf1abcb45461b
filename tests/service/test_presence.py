"""Presence in the editor: who else has a recording open, from heartbeats that expire, and only for
those who may see the recording."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.accounts import add_user
from service.models import Role
from service.presence import PRESENCE, TTL_SECONDS, Presence, Present
from tests.service.conftest import PASSWORD
from tests.web.conftest import DEPARTMENT, OTHER_DEPARTMENT
from tests.web.transcripts import meeting, store_finished

TAB_A, TAB_B, TAB_C = "tab-aaaaaaaa", "tab-bbbbbbbb", "tab-cccccccc"


def test_heartbeats_expire_and_leaving_is_immediate() -> None:
    now = [1000.0]
    presence = Presence(clock=lambda: now[0])
    assert presence.beat(7, 1, TAB_A) == []
    assert presence.beat(7, 2, TAB_B) == [Present(1, same_user=False)]
    assert presence.beat(7, 1, TAB_C) == [Present(2, same_user=False), Present(1, same_user=True)]
    assert presence.beat(8, 3, TAB_A) == []  # another recording: nobody
    now[0] += TTL_SECONDS - 1
    assert presence.beat(7, 2, TAB_B) == [Present(1, same_user=False)]  # two tabs of one person: once
    presence.leave(7, 1, TAB_C)
    assert presence.beat(7, 2, TAB_B) == [Present(1, same_user=False)]  # tab A is still open
    now[0] += 2  # user 1's tab A has been silent for longer than the TTL
    assert presence.beat(7, 2, TAB_B) == []


def _client(app: object, user: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    response = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_presence_through_the_api(engine: Engine, tmp_path: Path) -> None:
    from kiroku.webapp import build_app

    with Session(engine) as db:
        add_user(db, "here_one", Role.clerk, DEPARTMENT, PASSWORD, display_name="山田 花子")
        add_user(db, "here_two", Role.clerk, DEPARTMENT, PASSWORD, display_name="佐藤 次郎")
        add_user(db, "elsewhere", Role.clerk, OTHER_DEPARTMENT, PASSWORD)
    app = build_app()
    recording_id = store_finished(engine, tmp_path, "here_one", "在室の確認", meeting(2))
    one, two, other = _client(app, "here_one"), _client(app, "here_two"), _client(app, "elsewhere")
    url = f"/api/v1/recordings/{recording_id}/presence"
    PRESENCE.clear()  # presence lives in the server process: nothing an earlier test left there

    assert one.post(url, json={"tab": TAB_A}).json()["others"] == []
    seen = two.post(url, json={"tab": TAB_B}).json()
    assert seen["others"] == [{"name": "山田 花子", "same_user": False}] and seen["heartbeat_seconds"] > 0
    assert one.post(url, json={"tab": TAB_C}).json()["others"] == [
        {"name": "佐藤 次郎", "same_user": False},
        {"name": "山田 花子", "same_user": True},
    ]
    assert one.delete(f"{url}/{TAB_C}").status_code == 204
    assert one.delete(f"{url}/{TAB_A}").status_code == 204
    assert two.post(url, json={"tab": TAB_B}).json()["others"] == []
    # Another department's clerk learns nothing, not even that the recording exists.
    assert other.post(url, json={"tab": TAB_A}).status_code == 404
    assert one.post(url, json={"tab": "<script>"}).status_code == 422
    assert TestClient(app).post(url, json={"tab": TAB_A}).status_code == 401

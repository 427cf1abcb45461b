"""Normal states are not errors: a transcript still being made, a publication copy not yet made, the
same clerk saving in two tabs. The API answers 204 with the state named (no red console line), pages
say what is going on in one phrase, the conflict banner names who saved, each uploaded file keeps its
own kind, and small usage figures read in minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.accounts import add_user
from service.models import Job, JobStatus, Recording, Role, User
from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD
from tests.web.conftest import DEPARTMENT, Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished


def running(engine: Engine, user: str, title: str) -> int:
    """A recording of ``user``'s department whose transcription is 7 % through recognition."""
    with Session(engine) as db:
        owner = db.exec(select(User).where(User.name == user)).one()
        recording = Recording(department_id=owner.department_id, kind="meeting", title=title, uploaded_by_id=owner.id)
        db.add(recording)
        db.flush()
        assert recording.id is not None
        now = datetime.now(UTC)
        db.add(
            Job(
                recording_id=recording.id,
                status=JobStatus.running,
                stage="asr",
                progress=0.07,
                attempts=1,
                worker="test",
                started_at=now,
                heartbeat_at=now,
            )
        )
        db.commit()
        return recording.id


@pytest.fixture
def client(engine: Engine) -> TestClient:
    from kiroku.webapp import build_app

    with Session(engine) as db:
        add_user(db, "quiet_clerk", Role.clerk, DEPARTMENT, PASSWORD)
    client = TestClient(build_app(), follow_redirects=False)
    response = client.post("/api/v1/auth/login", json={"username": "quiet_clerk", "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_missing_things_answer_204_with_their_state(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    busy = running(engine, "quiet_clerk", "文字起こし中の会議")
    minutes = client.get(f"/api/v1/recordings/{busy}/minutes")
    assert minutes.status_code == 204 and minutes.headers["X-Kiroku-State"] == "not_ready"
    assert minutes.content == b""
    copy = client.get(f"/api/v1/recordings/{busy}/publication")
    assert copy.status_code == 204 and copy.headers["X-Kiroku-State"] == "not_ready"

    done = store_finished(engine, tmp_path, "quiet_clerk", "終わった会議", meeting(3))
    assert client.get(f"/api/v1/recordings/{done}/minutes").status_code == 200
    copy = client.get(f"/api/v1/recordings/{done}/publication")
    assert copy.status_code == 204 and copy.headers["X-Kiroku-State"] == "no_publication"
    assert client.post(f"/api/v1/recordings/{done}/publication").status_code == 201
    assert client.get(f"/api/v1/recordings/{done}/publication").status_code == 200
    assert client.get("/api/v1/recordings/424242/minutes").status_code == 404  # absent is still absent


@pytest.mark.slow
def test_pages_in_normal_states_log_no_errors(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    busy = running(site.engine, "web_clerk", "文字起こし中の会議")
    done = store_finished(site.engine, site.storage, "web_clerk", "公開用のまだない記録", meeting(5))
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk")

    status = page.locator(f"#rows tr[data-id='{busy}'] .progress-text")
    expect(status).to_have_text("文字起こし中 7%")  # one phrase, the stage not said twice

    page.goto(f"{site.base}/recordings/{busy}")
    expect(page.locator(".pending")).to_contain_text("文字起こし中 7%")
    expect(page.locator("#save-state")).to_have_text("文字起こし待ち")

    page.goto(f"{site.base}/recordings/{done}/publication")
    expect(page.locator("#pub-start")).to_be_visible()
    expect(page.locator("#pub-state")).to_have_text("未作成")
    page.goto(f"{site.base}/recordings/{busy}/publication")
    expect(page.locator("#pub-error")).to_contain_text("文字起こしがまだ完了していない")
    shoot(page, shots, "25-publication-not-ready")
    context.close()
    assert errors == []


@pytest.mark.slow
def test_conflict_in_two_tabs_of_one_clerk_says_so(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "二つのタブ", meeting(6))
    context = site.context(browser)
    first, second = context.new_page(), context.new_page()
    log_in(first, site.base, "web_clerk", path=f"/recordings/{recording_id}")
    first.wait_for_selector("body[data-ready='true']")
    second.goto(f"{site.base}/recordings/{recording_id}")
    second.wait_for_selector("body[data-ready='true']")

    second.locator(".utt-text").first.click()
    second.keyboard.press("End")
    second.keyboard.type("(二つ目のタブ)")
    expect(second.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)

    first.locator(".utt-text").nth(1).click()
    first.keyboard.press("End")
    first.keyboard.type("(一つ目のタブ)")
    banner = first.locator("#banner")
    expect(banner).to_contain_text("別のタブ(または別の画面)で、あなたがこの記録を先に保存しました", timeout=15_000)
    expect(banner).not_to_contain_text("他の人")
    shoot(first, shots, "25-conflict-own-tab")
    context.close()


@pytest.mark.slow
def test_each_uploaded_file_keeps_its_kind(site_factory: Any, browser: Any, shots: Path) -> None:
    site: Site = site_factory(worker=False)
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path="/upload")
    data = SINGLE.read_bytes()
    page.set_input_files(
        "#file-input",
        [
            {"name": "定例会議.flac", "mimeType": "audio/flac", "buffer": data},
            {"name": "苦情の電話.flac", "mimeType": "audio/flac", "buffer": data},
        ],
    )
    kinds = page.get_by_label("種類", exact=True)
    expect(kinds).to_have_count(2)
    expect(kinds.nth(0)).to_have_value("meeting")
    kinds.nth(1).select_option(label="電話")
    page.locator("input[name=kind][value=interview]").check()  # the form's kind follows into files not chosen by hand …
    expect(kinds.nth(0)).to_have_value("interview")
    expect(kinds.nth(1)).to_have_value("phone")  # … and leaves a chosen one alone
    page.locator("input[name=kind][value=meeting]").check()
    page.click("#start")
    page.wait_for_function("() => document.querySelectorAll('.file-item a[href^=\"/recordings/\"]').length === 2")
    shoot(page, shots, "25-upload-kinds")
    with Session(site.engine) as db:
        stored = db.exec(select(Recording.title, Recording.kind).order_by(col(Recording.id))).all()
    assert [tuple(row) for row in stored] == [("定例会議", "meeting"), ("苦情の電話", "phone")]
    context.close()
    assert errors == []


@pytest.mark.slow
def test_small_usage_reads_in_minutes(site_factory: Any, browser: Any) -> None:
    from service.usage import new_usage_record

    site: Site = site_factory(worker=False)
    with Session(site.engine) as db:
        clerk = db.exec(select(User).where(User.name == "web_clerk")).one()
        for kind, seconds in (("meeting", 25 * 60), ("phone", 17 * 60)):
            recording = Recording(department_id=clerk.department_id, kind=kind, duration_seconds=seconds)
            db.add(recording)
            db.flush()
            db.add(new_usage_record(recording, "whisper-base", seconds / 5, at=datetime.now(UTC)))
        db.commit()
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_manager", path="/usage")
    expect(page.locator("#used-hours")).to_have_text("42 分")
    kinds = page.locator(".kind-table tbody tr")
    expect(kinds.filter(has_text="会議")).to_contain_text("25 分")
    expect(kinds.filter(has_text="電話")).to_contain_text("17 分")
    expect(page.locator("#summary")).not_to_contain_text("0.7 時間")
    context.close()
    assert errors == []

"""Known voices in the editor (issue 26): 「この声を登録」 on a named speaker enrols it with the
consent the clerk types; in another recording the same voice comes pre-filled and marked 「声で推定」
until 確認; once the profile is deleted, naming leaves the voice unnamed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.service.conftest import PASSWORD
from tests.service.processes import login as api_login
from tests.test_voices import _dialogue_recording, _kumo_recording, _write_wav
from tests.web.conftest import Site, log_in, watch_errors
from tests.web.transcripts import store_finished

pytestmark = pytest.mark.slow


def _stored(site: Site, tmp: Path, which: str, name: str | None = None) -> int:
    audio, transcript = _kumo_recording() if which == "kumo" else _dialogue_recording()
    wav = tmp / f"{which}-{name}.wav"
    _write_wav(wav, audio)
    body: dict[str, Any] = json.loads(json.dumps(transcript.to_json_dict()))
    if name:
        body["speakers"][0]["name"] = name
    return store_finished(site.engine, site.storage, "web_clerk", f"{which}-{name}", body, wav)


def test_enrol_then_estimate_confirm_and_delete(site_factory: Any, browser: Any, tmp_path: Path) -> None:
    from transcriber.diarization import weights

    if not weights.is_installed():
        pytest.skip("speaker encoder not installed (kiroku models install)")
    site: Site = site_factory(worker=False)
    first = _stored(site, tmp_path, "kumo", "区長")
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk", path=f"/recordings/{first}")
    page.wait_for_selector("body[data-ready='true']")
    page.once("dialog", lambda dialog: dialog.accept("2026-12-01 本人より書面で同意"))
    page.get_by_role("button", name="この声を登録").click()
    expect(page.locator("#live")).to_contain_text("区長 の声を登録しました", timeout=60_000)
    clerk_api = api_login(site.base, "web_clerk", PASSWORD)
    clerk_api.timeout = httpx.Timeout(180)  # naming embeds every speaker on a shared CPU
    assert [p["name"] for p in clerk_api.get("/api/v1/voices").json()["items"]] == ["区長"]

    # Another recording of the department: named by voice (as the worker does after transcription).
    second = _stored(site, tmp_path, "dialogue")
    assert clerk_api.post(f"/api/v1/recordings/{second}/voice-names").status_code == 200
    page.goto(f"{site.base}/recordings/{second}")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("[data-speaker-id='S2']")).to_have_value("区長")
    mark = page.locator(".spk-voice", has_text="声で推定")
    expect(mark).to_have_count(1)
    mark.get_by_role("button", name="確認").click()
    expect(page.locator(".spk-voice", has_text="声で推定")).to_have_count(0)
    expect(page.locator("#save-state")).to_contain_text("保存済み", timeout=15_000)
    saved = clerk_api.get(f"/api/v1/recordings/{second}/minutes").json()["transcript"]["speakers"]
    confirmed = {s["id"]: s for s in saved}["S2"]
    assert confirmed["name"] == "区長" and not confirmed.get("voice_estimated")

    # The manager deletes the profile: the next recording stays unnamed.
    manager_api = api_login(site.base, "web_manager", PASSWORD)
    profile = manager_api.get("/api/v1/voices").json()["items"][0]["id"]
    assert manager_api.delete(f"/api/v1/voices/{profile}").status_code == 204
    third = _stored(site, tmp_path, "dialogue", "")
    named = clerk_api.post(f"/api/v1/recordings/{third}/voice-names").json()["transcript"]
    assert all("name" not in s for s in named["speakers"])
    context.close()
    assert errors == []

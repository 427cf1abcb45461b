"""The department's known voices over the API (issue 26): enrol with consent from a finished recording,
name another recording's speakers (marked 声で推定), delete the profile with its embeddings; who may do
what; the phone recording's outside party and short speech refused; enrolment and deletion audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from service.models import AuditEvent, Recording, VoiceEmbedding, VoiceProfile
from tests.service.conftest import World
from tests.test_voices import _dialogue_recording, _kumo_recording, _write_wav
from tests.web.transcripts import store_finished

pytest.importorskip("torchaudio", reason="the speaker encoder needs torch")
R = "/api/v1/recordings"


@pytest.fixture
def storage(service_env: dict[str, str]) -> Path:
    from transcriber.diarization import weights

    if not weights.is_installed():
        pytest.skip("speaker encoder not installed (kiroku models install)")
    return Path(service_env["KIROKU_STORAGE_DIR"])


def _finished(world: World, storage: Path, tmp: Path, user: str, which: str) -> int:
    audio, transcript = _kumo_recording() if which == "kumo" else _dialogue_recording()
    wav = tmp / f"{which}-{user}.wav"
    _write_wav(wav, audio)
    body: dict[str, Any] = json.loads(json.dumps(transcript.to_json_dict()))
    return store_finished(world.engine, storage, user, f"{which}-{user}", body, wav)


def _actions(world: World) -> list[str]:
    with Session(world.engine) as db:
        return [e.action for e in db.exec(select(AuditEvent)).all() if e.action.startswith("voice.")]


def _upload_and_run(world: World, storage: Path, tmp: Path) -> dict[str, tuple[str | None, bool | None]]:
    """Upload the dialogue and let the worker run it (its transcription is stood in for)."""
    from tests.service.conftest import run_queued_job

    audio, transcript = _dialogue_recording()
    wav = tmp / "upload.wav"
    _write_wav(wav, audio)
    clerk = world.client("clerk_kita")
    with wav.open("rb") as handle:
        created = clerk.post(R, files={"file": ("upload.wav", handle, "audio/wav")}, data={"kind": "meeting"})
    assert created.status_code == 201, created.text
    run_queued_job(world.engine, created.json()["job_id"], lambda *_: transcript, storage)
    body = clerk.get(f"{R}/{created.json()['id']}/transcript").json()
    return {s["id"]: (s.get("name"), s.get("voice_estimated")) for s in body["speakers"]}


CONSENT = {"name": "北区長", "title": "区長", "consent": "2026-12-01 本人より書面で同意 (総務課保管)"}


def test_enrol_name_and_delete_with_access_rules(world: World, storage: Path, tmp_path: Path) -> None:
    clerk, other_clerk = world.client("clerk_kita"), world.client("clerk_zaisei")
    first = _finished(world, storage, tmp_path, "clerk_kita", "kumo")
    second = _finished(world, storage, tmp_path, "clerk_kita", "dialogue")

    # Another department cannot see the recording, so cannot enrol from it.
    assert other_clerk.post(f"{R}/{first}/voices", json={**CONSENT, "speaker": "S1"}).status_code == 404
    assert clerk.post(f"{R}/{first}/voices", json={**CONSENT, "speaker": "S1", "consent": ""}).status_code == 422
    enrolled = clerk.post(f"{R}/{first}/voices", json={**CONSENT, "speaker": "S1"})
    assert enrolled.status_code == 201, enrolled.text
    profile = enrolled.json()["profile"]
    assert enrolled.json()["added"] == 3 and profile["name"] == "北区長" and not profile["may_delete"]
    assert _actions(world) == ["voice.enrol"]

    # Listed for the department only.
    assert [p["name"] for p in clerk.get("/api/v1/voices").json()["items"]] == ["北区長"]
    assert other_clerk.get("/api/v1/voices").json()["items"] == []
    assert world.client("manager_kita").get("/api/v1/voices").json()["items"][0]["may_delete"] is True

    named = clerk.post(f"{R}/{second}/voice-names")
    assert named.status_code == 200, named.text
    speakers = {s["id"]: s for s in named.json()["transcript"]["speakers"]}
    assert speakers["S2"]["name"] == "北区長" and speakers["S2"]["voice_estimated"] is True
    assert "name" not in speakers["S1"]
    stored = clerk.get(f"{R}/{second}/transcript").json()
    assert {s["id"]: s.get("name") for s in stored["speakers"]}["S2"] == "北区長"

    # A new upload of the department: the worker pre-fills the known voice, marked until confirmed.
    assert _upload_and_run(world, storage, tmp_path)["S2"] == ("北区長", True)

    # Clerks use the registry; managers of the department and admins delete from it.
    profile_id = profile["id"]
    assert clerk.delete(f"/api/v1/voices/{profile_id}").status_code == 403
    assert world.client("manager_zaisei").delete(f"/api/v1/voices/{profile_id}").status_code == 404
    assert world.client("manager_kita").delete(f"/api/v1/voices/{profile_id}").status_code == 204
    with Session(world.engine) as db:
        assert db.exec(select(VoiceProfile)).all() == [] and db.exec(select(VoiceEmbedding)).all() == []
    assert _actions(world) == ["voice.enrol", "voice.delete"]

    assert _upload_and_run(world, storage, tmp_path)["S2"] == (None, None)  # the next upload: unnamed
    # The estimate goes with the profile when naming runs again.
    again = clerk.post(f"{R}/{second}/voice-names").json()["transcript"]
    assert all("name" not in s for s in again["speakers"])


def test_outside_party_and_short_speech_are_refused(world: World, storage: Path, tmp_path: Path) -> None:
    clerk = world.client("clerk_kita")
    call = _finished(world, storage, tmp_path, "clerk_kita", "kumo")
    with Session(world.engine) as db:
        recording = db.get(Recording, call)
        assert recording is not None
        recording.kind = "phone"
        db.add(recording)
        db.commit()
    # The kumo transcript has only S1; in a phone call S2 would be the citizen: refused before anything.
    refused = clerk.post(f"{R}/{call}/voices", json={**CONSENT, "speaker": "S2"})
    assert refused.status_code == 422 and refused.json()["code"] == "outside_party", refused.text
    assert clerk.post(f"{R}/{call}/voices", json={**CONSENT, "speaker": "S1"}).status_code == 201

    short = _finished(world, storage, tmp_path, "clerk_kita", "dialogue")
    too_short = clerk.post(f"{R}/{short}/voices", json={**CONSENT, "speaker": "S2"})
    assert too_short.status_code == 422 and "20 秒" in too_short.text
    assert _actions(world) == ["voice.enrol"]


# Access rows for the registry (the shape of test_access_matrix): the recording and the profile are of
# 北区役所 (kita). Enrolment on the short dialogue answers 422 (too little speech) once access is granted.
ACCESS = {
    #                      list       enrol  delete  name
    None: ("401", 401, 401, 401),
    "clerk_kita": ("listed", 422, 403, 200),
    "manager_kita": ("listed", 422, 204, 200),
    "root_admin": ("listed", 403, 204, 200),  # admins run the registry; enrolment is the department's act
    "clerk_zaisei": ("hidden", 404, 404, 404),
    "manager_zaisei": ("hidden", 404, 404, 404),
}


@pytest.mark.parametrize("user", list(ACCESS))
def test_access_rows(world: World, storage: Path, tmp_path: Path, user: str | None) -> None:
    recording = _finished(world, storage, tmp_path, "clerk_kita", "dialogue")
    with Session(world.engine) as db:
        department = db.get(Recording, recording)
        assert department is not None
        profile = VoiceProfile(department_id=department.department_id, name="北区長", consent="同意")
        db.add(profile)
        db.commit()
        db.refresh(profile)
        db.add(VoiceEmbedding(profile_id=profile.id or 0, vector=[0.1] * 256, encoder="resemblyzer-256"))
        db.commit()
        profile_id = profile.id
    client = world.client(user)
    listing, enrol, remove, name = ACCESS[user]
    listed = client.get("/api/v1/voices")
    if listing == "401":
        assert listed.status_code == 401
    else:
        names = [p["name"] for p in listed.json()["items"]]
        assert names == (["北区長"] if listing == "listed" else []), user
    assert client.post(f"{R}/{recording}/voices", json={**CONSENT, "speaker": "S2"}).status_code == enrol, user
    assert client.post(f"{R}/{recording}/voice-names").status_code == name, user
    assert client.delete(f"/api/v1/voices/{profile_id}").status_code == remove, user
    with Session(world.engine) as db:
        left = db.exec(select(VoiceEmbedding)).all()
    assert (left == []) == (remove == 204)
    assert _actions(world) == (["voice.delete"] if remove == 204 else [])

"""Security tests (issue 9, hardening): what an upload's name can do, oversize and bomb-like audio,
CSRF, what a clerk's token reaches, and the id-guessing variants the access matrix does not cover.

Session fixation and the login lockout are in test_auth_ops; guessed ids of another department's
recording (every endpoint, listings and filters) in test_access_matrix. Here: file names with
``../``, backslashes, NULs and playlist extensions; export headers; oversize bodies; decompression
bombs (a WAV header claiming hours, a FLAC header claiming a thousand hours, a real 2-hour silent FLAC,
forged sample rates); CSRF without, with a wrong, and with a planted token, and a cross-site form;
token scope; Range and HEAD requests, trailing slashes, encoded and out-of-range ids.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette import formparsers

from api.auth import CSRF_COOKIE, SESSION_COOKIE
from service.accounts import add_token
from service.models import ApiToken, AuditEvent, Dictionary, Job, Recording, User
from service.settings import get_settings
from tests.conftest import Encoding, encode
from tests.service.conftest import World, run_queued_job
from tests.service.hardening import (
    JAPANESE,
    SERVER_NAME,
    TRANSCRIPT_TEXT,
    counts,
    finish,
    flac_claiming,
    multipart,
    silent_flac,
    stored_files,
    tiny_wav,
    wav_header,
)

REPO = Path(__file__).resolve().parents[2]
R = "/api/v1/recordings"


def _storage(service_env: dict[str, str]) -> Path:
    return Path(service_env["KIROKU_STORAGE_DIR"])


def _upload_raw(client: TestClient, filename: bytes, data: bytes, **fields: str) -> Any:
    form = [(b"kind", b"meeting"), *((k.encode(), v.encode()) for k, v in fields.items())]
    body, content_type = multipart(form, filename, data)
    return client.post(R, content=body, headers={"Content-Type": content_type})


# --- decoding in a child process -------------------------------------------------------------------


_DECODE_CHILD = r"""
import json, resource, sys, time, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (6 * 1024**3, 6 * 1024**3))
from transcriber import audio
for path, max_seconds in json.loads(sys.argv[1]):
    if max_seconds:
        audio.MAX_SECONDS = max_seconds
    tracemalloc.start()
    started = time.monotonic()
    try:
        samples = audio.decode(path).size
        error, message = None, ""
    except Exception as exc:
        samples, error, message = 0, type(exc).__name__, getattr(exc, "ja", str(exc))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"path": path, "samples": samples, "error": error, "message": message,
                      "peak": peak, "seconds": time.monotonic() - started}), flush=True)
"""


def decode_in_child(files: list[tuple[Path, float]], timeout: float) -> dict[str, dict[str, Any]]:
    """transcriber.audio.decode on each file in a child process: a hang is killed at ``timeout``, the
    address space is capped, and the peak of traced allocations (numpy buffers included) is reported."""
    argument = json.dumps([[str(path), max_seconds] for path, max_seconds in files])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _DECODE_CHILD, argument],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {Path(r["path"]).name: r for r in results}


# --- file names -----------------------------------------------------------------------------------


def test_uploaded_names_never_become_paths(world: World, service_env: dict[str, str], tmp_path: Path) -> None:
    storage = _storage(service_env)
    clerk = world.client("clerk_kita")
    names = {
        b"../../etc/passwd.wav": "passwd.wav",
        b"../../../" + str(tmp_path).encode() + b"/escaped.wav": "escaped.wav",
        b"..\\..\\windows\\win.ini.wav": "win.ini.wav",
        "C:\\Users\\tanaka\\Desktop\\面談.wav".encode(): "面談.wav",  # old browsers send the whole path
        b"a\x00b.wav": "ab.wav",
        b"rec\x00/../../x.wav": "x.wav",
        b"\x00": "recording",
        b"..": "recording",
        "\u202ewav.exe".encode(): "wav.exe",  # the right-to-left mark that disguises extensions is dropped
        b"%2e%2e%2fetc.wav": "%2e%2e%2fetc.wav",  # not decoded: only ever a label
    }
    for raw, expected in names.items():
        response = _upload_raw(clerk, raw, tiny_wav())
        assert response.status_code == 201, (raw, response.text)
        created = response.json()
        assert created["original_filename"] == expected, raw
        with Session(world.engine) as db:
            recording = db.get(Recording, created["id"])
            assert recording is not None and recording.audio_path is not None
            stored = storage / recording.audio_path
        assert stored.parent == storage / "audio" and SERVER_NAME.match(stored.name), recording.audio_path
        assert stored.is_file() and stored.resolve().is_relative_to(storage.resolve())
    assert not (tmp_path / "escaped.wav").exists() and not (storage.parent / "etc").exists()
    assert stored_files(storage)["uploads"] == []
    assert {p.name for p in storage.iterdir()} <= {"audio", "uploads", "templates"}
    # A name too long for the column keeps its extension, and the default title fits too.
    long = _upload_raw(clerk, "議".encode() * 400 + b".wav", tiny_wav()).json()
    assert len(long["original_filename"]) == 300 and long["original_filename"].endswith(".wav")
    assert 0 < len(long["title"]) <= 300


def test_a_playlist_extension_is_never_kept(world: World, service_env: dict[str, str], tmp_path: Path) -> None:
    """A polyglot (an HLS playlist naming a local file, then MP3 frames) probes as MP3 when uploaded.

    Stored as ``.m3u8`` it would be read by FFmpeg's HLS demuxer, which opens the file it names: the
    worker would transcribe a file of the server's choosing. The stored name keeps only audio
    extensions, and the decoder refuses playlists whatever their name.
    """
    from transcriber.audio import decode

    secret = silent_flac(tmp_path / "secret.flac", 1.0)
    mp3 = encode(np.sin(np.arange(48000) / 10).astype(np.float32) * 0.3, tmp_path / "tone.mp3", MP3)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n{secret}\n#EXT-X-ENDLIST\n#".encode()
    polyglot = playlist + mp3.read_bytes()
    clerk = world.client("clerk_kita")
    response = _upload_raw(clerk, b"minutes.m3u8", polyglot)
    assert response.status_code == 201, response.text
    with Session(world.engine) as db:
        recording = db.get(Recording, response.json()["id"])
        assert recording is not None and recording.audio_path is not None
    stored = _storage(service_env) / recording.audio_path
    assert not stored.name.endswith(".m3u8") and SERVER_NAME.match(stored.name)
    assert decode(stored).size == pytest.approx(3 * 16000, rel=0.05)  # the MP3's own 3 s, not the secret
    named = tmp_path / "named.m3u8"
    named.write_bytes(polyglot)
    from transcriber.errors import NotAudio

    with pytest.raises(NotAudio):
        decode(named)


MP3 = Encoding("mp3", "mp3", ".mp3", "libmp3lame", 16000)
DISPOSITION = re.compile(r"^attachment; filename=\"[a-z]+-\d+\.[a-z]+\"; filename\*=UTF-8''[A-Za-z0-9%._~-]+$")


def test_export_headers_cannot_be_injected(world: World) -> None:
    clerk = world.client("clerk_kita")
    hostile = 'x"\r\nX-Injected: 1\r\n\r\n<html>'
    created = _upload_raw(clerk, b'evil"\r\nX-Injected: 2.wav', tiny_wav(), title=hostile)
    # CR/LF cannot even reach a part's headers: the multipart parser refuses the form.
    assert created.status_code in (201, 400, 422), created.text
    created = _upload_raw(clerk, b'evil";\x01.wav', tiny_wav(), title=hostile)
    assert created.status_code == 201, created.text
    recording_id = created.json()["id"]
    finish(world.engine, recording_id)
    for fmt in ("docx", "txt", "srt", "vtt", "json"):
        exported = clerk.get(f"{R}/{recording_id}/export", params={"format": fmt})
        assert exported.status_code == 200
        assert DISPOSITION.match(exported.headers["content-disposition"]), exported.headers["content-disposition"]
        assert "x-injected" not in {k.lower() for k in exported.headers}
    audio = clerk.get(f"{R}/{recording_id}/audio")
    assert audio.status_code == 200 and "x-injected" not in {k.lower() for k in audio.headers}
    assert re.match(r'^attachment; filename="recording-\d+(\.[a-z0-9]+)?"$', audio.headers["content-disposition"])
    assert audio.headers["x-content-type-options"] == "nosniff"
    # A dictionary's name goes into its export's file name, percent-encoded.
    made = clerk.post("/api/v1/dictionaries", json={"name": 'a"\r\nX-Injected: 3'})
    assert made.status_code == 201, made.text
    exported = clerk.get(f"/api/v1/dictionaries/{made.json()['id']}/export")
    assert exported.status_code == 200 and "x-injected" not in {k.lower() for k in exported.headers}
    assert "\r" not in exported.headers["content-disposition"] and "%0D%0A" in exported.headers["content-disposition"]


# --- oversize and bomb-like inputs ----------------------------------------------------------------


def test_oversize_uploads_are_refused_without_leaving_files(
    world: World, service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIROKU_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    spooled: list[int] = []  # the temporary files the form parser fills before the endpoint runs

    class Spool(tempfile.SpooledTemporaryFile[bytes]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            spooled.append(1)

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", Spool)
    storage = _storage(service_env)
    clerk = world.client("clerk_kita")
    before = counts(world.engine)
    cases = {
        # 192 KB: within the form's allowance, so parsed, then refused while copied into storage
        "streamed to disk, then over the limit": (tiny_wav(seconds=6), 1),
        "declared too large": (b"\0" * (6 * 1024 * 1024), 0),  # its Content-Length: refused before parsing
    }
    for case, (data, spools) in cases.items():
        spooled.clear()
        response = clerk.post(R, files={"file": ("会議.wav", data, "audio/wav")}, data={"kind": "meeting"})
        assert response.status_code == 413, (case, response.text)
        assert response.json()["code"] == "too_large" and "大きすぎます" in response.json()["detail"]
        assert stored_files(storage) == {"audio": [], "uploads": []}, case
        assert len(spooled) == spools, case

    # Sent chunked (no Content-Length): counted as it arrives, refused before the file part is spooled.
    spooled.clear()
    body, content_type = multipart([(b"kind", b"meeting")], b"a.wav", b"\0" * (6 * 1024 * 1024))
    response = clerk.post(R, content=iter([body]), headers={"Content-Type": content_type})
    assert response.status_code == 413 and "大きすぎます" in response.json()["detail"], response.text
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert stored_files(storage) == {"audio": [], "uploads": []} and spooled == []
    assert counts(world.engine) == before
    # The limit is read per request: back to the default, the same small file is taken.
    monkeypatch.delenv("KIROKU_MAX_UPLOAD_BYTES")
    get_settings.cache_clear()
    assert (
        clerk.post(R, files={"file": ("a.wav", tiny_wav(6), "audio/wav")}, data={"kind": "meeting"}).status_code == 201
    )


def test_forged_headers_are_refused_at_upload(world: World, tmp_path: Path) -> None:
    """Sample rates no recording has, and durations no recording has, are refused before storing."""
    clerk = world.client("clerk_kita")
    one = silent_flac(tmp_path / "one.flac", 1.0)
    cases = {
        "4 GHz, 0 channels": (wav_header(4_000_000_000, 0, 16, 32000, b"\0" * 32000), 415),
        "2^31-1 Hz": (wav_header(2**31 - 1, 1, 16, 32000, b"\0" * 32000), 415),
        "2 GHz stereo": (wav_header(2_000_000_000, 2, 16, 32000, b"\0" * 32000), 415),
        "1 Hz (32 KB that decode to 2 GB)": (wav_header(1, 1, 8, 32000, b"\x80" * 32000), 415),
        "a thousand hours in STREAMINFO": (flac_claiming(one, tmp_path / "k.flac", (1 << 36) - 1).read_bytes(), 413),
    }
    before = counts(world.engine)
    for case, (data, status) in cases.items():
        response = clerk.post(R, files={"file": ("x.wav", data, "audio/wav")}, data={"kind": "meeting"})
        assert response.status_code == status, (case, response.text)
        assert JAPANESE.search(response.json()["detail"]), response.text
    assert counts(world.engine) == before


@pytest.mark.slow
def test_bombs_fail_cleanly_in_the_worker(
    world: World, service_env: dict[str, str], transcribe_fn: Any, tmp_path: Path
) -> None:
    """Headers that lie within the limits pass the upload; the worker then fails at once, in Japanese."""
    storage = _storage(service_env)
    clerk = world.client("clerk_kita")
    one = silent_flac(tmp_path / "one.flac", 1.0)
    cases = {
        # FFmpeg clamps the length to the file: the upload says 4 s, the decoder finds the data missing.
        "hours.wav": wav_header(8000, 1, 8, 0xFFFFFFF0, b"\x80" * 32000),
        "ten-hours.flac": flac_claiming(one, tmp_path / "ten.flac", 10 * 3600 * 16000).read_bytes(),
    }
    for name, data in cases.items():
        created = clerk.post(R, files={"file": (name, data, "audio/wav")}, data={"kind": "meeting"})
        assert created.status_code == 201, (name, created.text)
        outcome = run_queued_job(world.engine, created.json()["job_id"], transcribe_fn, storage)
        assert outcome == "failed", name
        with Session(world.engine) as db:
            job = db.get(Job, created.json()["job_id"])
            assert job is not None and job.attempts == 1  # the recording is at fault: no retry
            assert "壊れているか途中で切れています" in job.error, job.error


@pytest.mark.slow
def test_decode_is_bounded_in_time_and_memory(tmp_path: Path) -> None:
    one = silent_flac(tmp_path / "one.flac", 1.0)
    two_hours = silent_flac(tmp_path / "two-hours.flac", 2 * 3600)
    assert two_hours.stat().st_size < 3 * 1024**2  # the bomb: a small file ...
    (tmp_path / "hours.wav").write_bytes(wav_header(8000, 1, 8, 0xFFFFFFF0, b"\x80" * 32000))
    (tmp_path / "ghz.wav").write_bytes(wav_header(4_000_000_000, 0, 16, 32000, b"\0" * 32000))
    (tmp_path / "one-hz.wav").write_bytes(wav_header(1, 1, 8, 32000, b"\x80" * 32000))
    flac_claiming(one, tmp_path / "ten-hours.flac", 10 * 3600 * 16000)
    flac_claiming(one, tmp_path / "thousand-hours.flac", (1 << 36) - 1)
    # A header that says nothing, and more audio than the limit (60 s here, 12 h in service).
    flac_claiming(silent_flac(tmp_path / "long.flac", 130), tmp_path / "unstated.flac", 0)
    files = [
        (two_hours, 0.0),
        (tmp_path / "hours.wav", 0.0),
        (tmp_path / "ghz.wav", 0.0),
        (tmp_path / "one-hz.wav", 0.0),
        (tmp_path / "ten-hours.flac", 0.0),
        (tmp_path / "thousand-hours.flac", 0.0),
        (tmp_path / "unstated.flac", 60.0),
    ]
    found = decode_in_child(files, timeout=120)
    mb = 1024**2
    # ... that decodes to 2 hours: exactly what the audio needs (460 MB), no more.
    assert found["two-hours.flac"]["error"] is None
    assert found["two-hours.flac"]["samples"] == 2 * 3600 * 16000
    assert found["two-hours.flac"]["peak"] < 1.1 * 2 * 3600 * 16000 * 4
    expected = {
        "hours.wav": "CorruptAudio",
        "ghz.wav": "NotAudio",
        "one-hz.wav": "UnsupportedCodec",
        "ten-hours.flac": "CorruptAudio",
        "thousand-hours.flac": "AudioTooLong",
        "unstated.flac": "AudioTooLong",
    }
    for name, error in expected.items():
        result = found[name]
        assert result["error"] == error, result
        assert JAPANESE.search(result["message"]), result
        assert result["peak"] < 64 * mb, result  # never the declared size (10 h would be 2.3 GB)
        assert result["seconds"] < 10, result


# --- CSRF -----------------------------------------------------------------------------------------


def test_csrf_is_required_for_every_change_by_a_session(world: World) -> None:
    owner = world.client("clerk_kita")
    created = owner.post(R, files={"file": ("a.wav", tiny_wav(), "audio/wav")}, data={"kind": "meeting"}).json()
    recording_id = created["id"]
    finish(world.engine, recording_id)
    minutes = owner.get(f"{R}/{recording_id}/minutes").json()
    other = world.client("clerk_zaisei")  # a valid token, of another session
    wrong_tokens: dict[str, str | None] = {
        "no header": None,
        "empty header": "",
        "a guessed token": "0" * 43,
        "another session's token": str(other.headers["X-CSRF-Token"]),
        "the session id itself": owner.cookies.get(SESSION_COOKIE),
    }
    changes = [
        ("POST", R, {"files": {"file": ("a.wav", tiny_wav(), "audio/wav")}, "data": {"kind": "meeting"}}),
        ("PUT", f"{R}/{recording_id}/minutes", {"json": minutes, "headers": {"If-Match": '"r0"'}}),
        ("POST", f"{R}/{recording_id}/cancel", {}),
        ("DELETE", f"{R}/{recording_id}", {}),
        ("POST", "/api/v1/dictionaries", {"json": {"name": "辞書"}}),
        ("POST", "/api/v1/auth/logout", {}),
    ]
    before = counts(world.engine)
    for label, token in wrong_tokens.items():
        attacker = TestClient(world.app)  # type: ignore[arg-type]
        attacker.cookies.set(SESSION_COOKIE, str(owner.cookies.get(SESSION_COOKIE)))
        if label == "a guessed token":  # double submit with a planted cookie does not help either
            attacker.cookies.set(CSRF_COOKIE, "0" * 43)
        for method, path, extra in changes:
            headers = dict(extra.get("headers", {}))
            if token is not None:
                headers["X-CSRF-Token"] = token
            response = attacker.request(method, path, **{**extra, "headers": headers})
            assert response.status_code == 403, (label, method, path, response.text)
            assert response.json()["code"] == "csrf" and JAPANESE.search(response.json()["detail"])
    assert counts(world.engine) == before
    assert owner.get(f"{R}/{recording_id}").json()["status"] == "succeeded"  # not canceled, not deleted
    assert owner.get("/api/v1/auth/me").status_code == 200  # not logged out


def test_a_cross_site_form_post_is_refused(world: World) -> None:
    """What a hostile page can make a browser send: a form POST with the cookies and no custom header."""
    owner = world.client("clerk_kita")
    created = owner.post(R, files={"file": ("a.wav", tiny_wav(), "audio/wav")}, data={"kind": "meeting"}).json()
    browser = TestClient(world.app)  # type: ignore[arg-type]
    for name, value in owner.cookies.items():
        browser.cookies.set(name, value)
    cross_site = {"Origin": "https://evil.example", "Referer": "https://evil.example/form.html"}
    forms: list[tuple[str, dict[str, Any]]] = [
        (R, {"files": {"file": ("x.wav", tiny_wav(), "audio/wav")}, "data": {"kind": "meeting"}}),
        (f"{R}/{created['id']}/cancel", {"data": {"confirm": "1"}}),
        ("/api/v1/dictionaries", {"content": b'{"name": "x", "z": "="}', "headers": {"Content-Type": "text/plain"}}),
        ("/api/v1/dictionaries", {"data": {"name": "x"}}),
        ("/api/v1/auth/logout", {"data": {}}),
    ]
    before = counts(world.engine)
    with Session(world.engine) as db:
        dictionaries = len(db.exec(select(Dictionary)).all())
    for path, extra in forms:
        response = browser.post(path, **{**extra, "headers": {**cross_site, **extra.get("headers", {})}})
        assert response.status_code == 403, (path, response.text)
        assert "access-control-allow-origin" not in {k.lower() for k in response.headers}
    assert counts(world.engine) == before
    assert owner.get(f"{R}/{created['id']}").json()["status"] == "queued"
    with Session(world.engine) as db:
        assert len(db.exec(select(Dictionary)).all()) == dictionaries


# --- token scope ----------------------------------------------------------------------------------


def test_a_clerks_token_reaches_only_the_clerks_department(world: World) -> None:
    with Session(world.engine) as db:
        kita, zaisei = add_token(db, "clerk_kita"), add_token(db, "clerk_zaisei")
    script = TestClient(world.app)  # type: ignore[arg-type]
    script.headers["Authorization"] = f"Bearer {kita}"
    theirs_client = TestClient(world.app)  # type: ignore[arg-type]
    theirs_client.headers["Authorization"] = f"Bearer {zaisei}"
    upload: dict[str, Any] = {"files": {"file": ("a.wav", tiny_wav(), "audio/wav")}, "data": {"kind": "meeting"}}
    mine = script.post(R, **upload).json()["id"]
    theirs = theirs_client.post(R, **upload).json()["id"]
    for recording_id in (mine, theirs):
        finish(world.engine, recording_id)
    their_dictionary = theirs_client.post("/api/v1/dictionaries", json={"name": "税務用語"}).json()["id"]

    admin_only = [
        ("GET", "/api/v1/admin/users", None),
        ("POST", "/api/v1/admin/users", {"name": "x", "role": "admin", "department": "x", "password": "x" * 12}),
        ("GET", "/api/v1/admin/devices", None),
        ("POST", "/api/v1/admin/devices", {"name": "会議室", "department": "財政局 税務部"}),
        ("GET", "/api/v1/admin/departments", None),
        ("PUT", "/api/v1/usage/caps/1", {"monthly_cap_hours": 1}),
        ("GET", "/api/v1/usage", None),
        ("GET", "/api/v1/usage/dashboard", None),
        ("POST", "/api/v1/dictionaries", {"name": "全市", "city_wide": True}),
    ]
    for method, path, body in admin_only:
        assert script.request(method, path, json=body).status_code == 403, (method, path)
    for suffix in ("", "/transcript", "/minutes", "/audio", "/export?format=txt", "/minutes/revisions"):
        assert script.get(f"{R}/{theirs}{suffix}").status_code == 404, suffix
        assert script.get(f"{R}/{mine}{suffix}").status_code == 200, suffix
    assert script.delete(f"{R}/{theirs}").status_code == 404
    assert script.put(f"{R}/{theirs}/minutes", json={}, headers={"If-Match": '"r0"'}).status_code == 404
    assert script.get(f"/api/v1/dictionaries/{their_dictionary}").status_code == 404
    assert their_dictionary not in {d["id"] for d in script.get("/api/v1/dictionaries").json()}
    assert (
        script.post(R, **{**upload, "data": {"kind": "meeting", "dictionary": str(their_dictionary)}}).status_code
        == 422
    )

    # Only in the Authorization header, only while the token and its user are active.
    bare = TestClient(world.app)  # type: ignore[arg-type]
    assert bare.get(f"{R}/{mine}", params={"access_token": kita}).status_code == 401
    assert bare.get(f"{R}/{mine}", headers={"Authorization": f"Token {kita}"}).status_code == 401
    assert bare.get(f"{R}/{mine}", headers={"Authorization": f"Bearer {kita}x"}).status_code == 401
    with Session(world.engine) as db:
        row = db.exec(select(ApiToken).join(User).where(User.name == "clerk_kita")).one()
        row.revoked = True
        db.add(row)
        db.commit()
    assert script.get(f"{R}/{mine}").status_code == 401
    # A token that does not work is not helped by a session cookie beside it.
    session = world.client("clerk_kita")
    session.headers["Authorization"] = f"Bearer {kita}"
    assert session.get(f"{R}/{mine}").status_code == 401


# --- guessing ids: what the access matrix does not cover -------------------------------------------


def test_range_head_slash_and_encoded_variants_reveal_nothing(world: World) -> None:
    owner = world.client("clerk_zaisei")
    upload: dict[str, Any] = {
        "files": {"file": ("a.wav", tiny_wav(), "audio/wav")},
        "data": {"kind": "meeting", "title": "税務調査"},
    }
    theirs = owner.post(R, **upload).json()["id"]
    finish(world.engine, theirs)
    clerk = world.client("clerk_kita")
    mine = clerk.post(R, **upload).json()["id"]
    finish(world.engine, mine)
    missing = clerk.get(f"{R}/{theirs + 1000}").json()

    def reveals(response: Any) -> bool:
        return response.status_code < 300 or any(t in response.text for t in ("税務調査", *TRANSCRIPT_TEXT))

    # Range requests on audio: a part of their audio is as unreachable as the whole.
    for value in (
        "bytes=0-10",
        "bytes=-1",
        "bytes=0-0,5-9",
        "bytes=99999999999-",
        "bytes=abc",
        "bytes=" + "0-1," * 200,
    ):
        assert clerk.get(f"{R}/{theirs}/audio", headers={"Range": value}).status_code == 404, value
        own = clerk.get(f"{R}/{mine}/audio", headers={"Range": value})
        assert own.status_code in (200, 206, 400, 416), (value, own.status_code)
    partial = clerk.get(f"{R}/{mine}/audio", headers={"Range": "bytes=0-10"})
    assert partial.status_code == 206 and len(partial.content) == 11
    # HEAD: never the headers of their recording.
    for suffix in ("", "/audio", "/transcript", "/minutes", "/export"):
        head = clerk.head(f"{R}/{theirs}{suffix}")
        assert head.status_code in (404, 405) and not head.content, (suffix, head.status_code)
        assert "content-disposition" not in {k.lower() for k in head.headers}
    # Trailing slashes, encoded separators, other spellings of the number, out-of-range numbers.
    variants = [
        f"{R}/{theirs}/",
        f"{R}/{theirs}/audio/",
        f"{R}/{theirs}%2Faudio",
        f"{R}/{theirs}%2F..",
        f"{R}/1%2F..",
        f"{R}/{mine}/..%2F{theirs}",
        f"{R}/{mine}/../{theirs}",
        f"{R}/%2e%2e/{theirs}",
        f"{R}/0{theirs}",
        f"{R}/+{theirs}",
        f"{R}/{theirs}.0",
        f"{R}/%20{theirs}",
        f"{R}/{theirs}%00",
        f"{R}/-{theirs}",
        f"{R}/0",
        f"{R}/2147483648",
        f"{R}/99999999999999999999",
        f"{R}/{'9' * 5000}",
        f"{R}/{theirs}?department_id=1",
        f"{R}?offset=99999999999999999999",
        f"{R}?limit=99999999999999999999",
        f"{R}/{theirs}/export?format=docx%00",
        "/api/v1/dictionaries/99999999999999999999",
        "/api/v1/dictionaries/2147483648/terms/2147483648",
    ]
    for path in variants:
        response = clerk.get(path)  # redirects (a trailing slash) are followed
        assert response.status_code in (404, 405, 422), (path, response.status_code, response.text[:200])
        assert not reveals(response), path
        if response.status_code == 404:  # the app's answer for a missing one, or the router's for no route
            assert response.json() in (missing, {"detail": "Not Found"}), path
    admin = world.client("root_admin")
    for path in ("/api/v1/admin/users/99999999999999999999/deactivate", "/api/v1/admin/devices/2147483648/revoke"):
        assert admin.post(path).status_code == 404, path
    assert admin.put("/api/v1/usage/caps/2147483648", json={"monthly_cap_hours": 1}).status_code == 404
    department = admin.get("/api/v1/admin/departments").json()[0]["id"]
    for cap in (b"Infinity", b"1e999", b"NaN"):  # JSON as JavaScript writes it; the 422 must not echo NaN
        body = b'{"monthly_cap_hours": ' + cap + b"}"
        refused = admin.put(
            f"/api/v1/usage/caps/{department}", content=body, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 422 and JAPANESE.search(refused.json()["detail"]), refused.text
    # Nothing about their recording was written to the audit trail by these probes.
    with Session(world.engine) as db:
        events = db.exec(select(AuditEvent).where(AuditEvent.recording_id == theirs)).all()
    assert {e.action for e in events} == {"recording.upload"}

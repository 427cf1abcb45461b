"""Meeting-room devices: resumable uploads (tus 1.0) and ``kiroku device push``.

The protocol through the app in-process; then the acceptance faults over real HTTP against
``kiroku serve``: a connection cut in the middle of an upload, and the API restarted mid-upload.
Nothing may be lost or doubled: one recording, one job, whatever the retries.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from api.tus import encode_metadata, parse_metadata
from kiroku.device_push import EXIT_GAVE_UP, EXIT_KEY, EXIT_REFUSED, backoff_delay
from service.models import AuditEvent, Device, Job, Recording, UploadSession, UsageRecord
from tests.conftest import DIALOGUE, load_pcm
from tests.service.hardening import JAPANESE, tiny_wav
from tests.service.processes import Process, free_port, service_process_env, start_server, wait_until_up

UPLOADS = "/api/v1/uploads"
OCTETS = "application/offset+octet-stream"


# --- helpers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Devices:
    """The app, a device of 北区役所 保健福祉課 and one of another department (no users: devices only)."""

    engine: Engine
    app: Any
    kita: str
    zaisei: str
    kita_id: int

    def client(self) -> TestClient:
        return TestClient(self.app)


@pytest.fixture
def devices(engine: Engine) -> Devices:
    from api.app import create_app
    from service.accounts import add_device

    with Session(engine) as db:
        kita, kita_key = add_device(db, "北区役所 第1会議室", "北区役所 保健福祉課")
        _other, zaisei_key = add_device(db, "財政局 会議室A", "財政局 税務部")
        assert kita.id is not None
        return Devices(engine, create_app(), kita_key, zaisei_key, kita.id)


def tus(key: str | None, **headers: str) -> dict[str, str]:
    out = {"Tus-Resumable": "1.0.0", **{k.replace("_", "-"): v for k, v in headers.items()}}
    if key is not None:
        out["X-Device-Key"] = key
    return out


def create(client: TestClient, key: str, length: int, **meta: str) -> Any:
    values = {"filename": "会議.wav", "kind": "meeting", **meta}
    return client.post(UPLOADS, headers=tus(key, Upload_Length=str(length), Upload_Metadata=encode_metadata(values)))


def patch(client: TestClient, key: str, url: str, offset: int, data: bytes) -> Any:
    return client.patch(url, content=data, headers=tus(key, Upload_Offset=str(offset), Content_Type=OCTETS))


def head(client: TestClient, key: str, url: str) -> Any:
    return client.head(url, headers=tus(key))


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(Recording)).one(),
            db.exec(select(func.count()).select_from(Job)).one(),
            db.exec(select(func.count()).select_from(UsageRecord)).one(),
        )


def leftovers(service_env: dict[str, str]) -> list[str]:
    folder = Path(service_env["KIROKU_STORAGE_DIR"]) / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- header parsing ------------------------------------------------------------------------------


def test_upload_metadata_pairs() -> None:
    header = encode_metadata({"filename": "会議 録音.wav", "title": "予算, 説明会"}) + ",empty"
    assert parse_metadata(header) == {"filename": "会議 録音.wav", "title": "予算, 説明会", "empty": ""}
    assert parse_metadata("") == {}
    from service.errors import ServiceError

    for bad in ("filename !!!", "a b c", "a YQ==,a YQ==", "bad key YQ==", "x /w==", ",".join(["k YQ=="] * 40)):
        with pytest.raises(ServiceError) as caught:
            parse_metadata(bad)
        assert caught.value.status == 400 and JAPANESE.search(caught.value.message)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(5)
    delays = [backoff_delay(n, 0.5, 8.0, rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        step = min(8.0, 0.5 * 2 ** (n - 1))
        assert step / 2 <= delay <= step
    assert len({round(backoff_delay(3, 0.5, 8.0, rng), 6) for _ in range(20)}) > 1  # jitter


def test_the_client_sends_its_key_only_to_the_server_it_was_given(tmp_path: Path) -> None:
    from kiroku.device_push import Pusher, PushOptions

    pusher = Pusher(tmp_path / "x.wav", PushOptions(server="https://kiroku.example.jp/", key="kd_x"))
    for location in ("https://elsewhere.example/api/v1/uploads/ab", "/api/v1/uploads/ab", "ab"):
        assert pusher._same_origin(location) == "https://kiroku.example.jp/api/v1/uploads/ab"


def test_device_add_prints_a_key_that_uploads(engine: Engine) -> None:
    from typer.testing import CliRunner

    from api.app import create_app
    from kiroku.cli import app

    result = CliRunner().invoke(app, ["device", "add", "北区役所 第2会議室", "--department", "北区役所 保健福祉課"])
    assert result.exit_code == 0, result.output
    key = re.search(r"key: (kd_\S+)", result.output)
    assert key is not None
    with Session(engine) as db:
        device = db.exec(select(Device)).one()
        assert device.name == "北区役所 第2会議室" and key.group(1) not in device.key_hash
    created = create(TestClient(create_app()), key.group(1), 1000, recording_id="cli")
    assert created.status_code == 201, created.text


# --- the protocol, in-process --------------------------------------------------------------------


def test_options_create_head_patch_in_pieces(devices: Devices, service_env: dict[str, str]) -> None:
    client = devices.client()
    options = client.options(UPLOADS)
    assert options.status_code == 204
    assert options.headers["Tus-Version"] == "1.0.0" and "creation" in options.headers["Tus-Extension"]
    assert int(options.headers["Tus-Max-Size"]) > 0

    audio = tiny_wav(2.0)
    created = create(client, devices.kita, len(audio), title="第3回 予算委員会", kind="negotiation", recording_id="r-1")
    assert created.status_code == 201, created.text
    assert created.headers["Tus-Resumable"] == "1.0.0"
    url = created.headers["Location"]
    assert url.startswith("http://testserver/api/v1/uploads/")

    state = head(client, devices.kita, url)
    assert state.status_code == 200 and state.headers["Cache-Control"] == "no-store"
    assert (state.headers["Upload-Offset"], state.headers["Upload-Length"]) == ("0", str(len(audio)))
    assert parse_metadata(state.headers["Upload-Metadata"])["title"] == "第3回 予算委員会"

    first = patch(client, devices.kita, url, 0, audio[:10000])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "10000"
    assert "Kiroku-Recording-Id" not in first.headers
    wrong = patch(client, devices.kita, url, 5000, audio[5000:20000])
    assert wrong.status_code == 409 and JAPANESE.search(wrong.json()["detail"])
    assert head(client, devices.kita, url).headers["Upload-Offset"] == "10000"
    second = patch(client, devices.kita, url, 10000, audio[10000:30000])
    assert second.headers["Upload-Offset"] == "30000"
    # The same POST again (a device that lost the answer) finds the upload and its offset.
    again = create(client, devices.kita, len(audio), recording_id="r-1")
    assert again.status_code == 200 and again.headers["Location"] == url and again.headers["Upload-Offset"] == "30000"
    assert counts(devices.engine) == (0, 0, 0)

    last = patch(client, devices.kita, url, 30000, audio[30000:])
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Offset"] == str(len(audio))
    recording_id = int(last.headers["Kiroku-Recording-Id"])

    with Session(devices.engine) as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        assert (recording.source, recording.kind, recording.title) == ("device", "negotiation", "第3回 予算委員会")
        assert (recording.device_id, recording.device_recording_id) == (devices.kita_id, "r-1")
        assert recording.original_filename == "会議.wav" and recording.duration_seconds == pytest.approx(2.0)
        device = db.get(Device, devices.kita_id)
        assert device is not None and recording.department_id == device.department_id
        stored = Path(service_env["KIROKU_STORAGE_DIR"]) / str(recording.audio_path)
        assert stored.read_bytes() == audio
        session = db.exec(select(UploadSession)).one()
        assert session.completed_at is not None and session.recording_id == recording_id
        assert session.offset == len(audio)
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.upload")).all()
        assert [(e.device_id, e.recording_id) for e in events] == [(devices.kita_id, recording_id)]
    assert counts(devices.engine) == (1, 1, 0)
    assert leftovers(service_env) == []  # no part file, no lock file

    status = client.get(f"{UPLOADS}/recordings/r-1", headers={"Authorization": f"Device {devices.kita}"})
    assert status.status_code == 200
    assert status.json()["id"] == recording_id and status.json()["status"] == "queued"
    done = head(client, devices.kita, url)
    assert done.headers["Upload-Offset"] == str(len(audio)) and done.headers["Kiroku-Recording-Id"] == str(recording_id)


def test_retrying_a_finished_upload_returns_the_same_recording(devices: Devices) -> None:
    client = devices.client()
    audio = tiny_wav(1.0)
    url = create(client, devices.kita, len(audio), recording_id="same").headers["Location"]
    recording_id = patch(client, devices.kita, url, 0, audio).headers["Kiroku-Recording-Id"]

    # The last PATCH again (its answer was lost), the POST again, a HEAD: the same recording.
    replay = patch(client, devices.kita, url, 0, audio)
    assert replay.status_code == 409  # that offset is long past: the device asks HEAD and sees it done
    final = patch(client, devices.kita, url, len(audio), b"")
    assert final.status_code == 204 and final.headers["Kiroku-Recording-Id"] == recording_id
    for _ in range(3):
        again = create(client, devices.kita, len(audio), recording_id="same")
        assert again.status_code == 200 and again.headers["Location"] == url
        assert again.headers["Upload-Offset"] == str(len(audio))
        assert again.headers["Kiroku-Recording-Id"] == recording_id
    assert counts(devices.engine) == (1, 1, 0)
    with Session(devices.engine) as db:
        assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "recording.upload")).all()) == 1

    # Another device may use the same id for its own recording: a separate recording.
    other = create(client, devices.zaisei, len(audio), recording_id="same")
    assert other.status_code == 201 and other.headers["Location"] != url
    second = patch(client, devices.zaisei, other.headers["Location"], 0, audio)
    assert second.headers["Kiroku-Recording-Id"] != recording_id
    assert counts(devices.engine) == (2, 2, 0)


def test_a_recording_stored_meanwhile_is_returned_not_doubled(
    devices: Devices, service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last guard: the unique key (device, device recording id). Another request stored the
    recording between this one's check and its insert; this one returns that recording."""
    from service import uploads

    client = devices.client()
    audio = tiny_wav(1.0)
    url = create(client, devices.kita, len(audio), recording_id="raced").headers["Location"]
    with Session(devices.engine) as db:
        device = db.get(Device, devices.kita_id)
        assert device is not None
        rival = Recording(department_id=device.department_id, device_id=device.id, device_recording_id="raced")
        db.add(rival)
        db.commit()
        rival_id = rival.id
    monkeypatch.setattr(uploads, "device_recording", _blind_once(uploads.device_recording))
    done = patch(client, devices.kita, url, 0, audio)
    assert done.status_code == 204, done.text
    assert done.headers["Kiroku-Recording-Id"] == str(rival_id)
    assert counts(devices.engine) == (1, 0, 0)  # no second recording, no job for the lost copy
    audio_dir = Path(service_env["KIROKU_STORAGE_DIR"]) / "audio"
    assert list(audio_dir.iterdir()) == []  # the copy moved into the store was removed again
    assert head(client, devices.kita, url).headers["Kiroku-Recording-Id"] == str(rival_id)


def _blind_once(real: Any) -> Any:
    calls = {"n": 0}

    def lookup(*args: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(*args)

    return lookup


def test_concurrent_posts_and_completions_make_one_recording(devices: Devices) -> None:
    audio = tiny_wav(1.0)
    barrier = threading.Barrier(4)

    def post() -> Any:
        with devices.client() as client:
            barrier.wait(timeout=30)
            return create(client, devices.kita, len(audio), recording_id="twice")

    created = _together(post, 4)
    # One creates the upload, the three others are answered as its repeat.
    assert sorted(c.status_code for c in created) == [200, 200, 200, 201], [c.text for c in created]
    locations = {c.headers["Location"] for c in created}
    assert len(locations) == 1, locations  # every racer was given the one upload
    barrier = threading.Barrier(4)

    def complete() -> Any:
        with devices.client() as client:
            barrier.wait(timeout=30)
            return patch(client, devices.kita, next(iter(locations)), 0, audio)

    answers = _together(complete, 4)
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(204) >= 1 and set(statuses) <= {204, 409}, [a.text for a in answers]
    assert len({a.headers["Kiroku-Recording-Id"] for a in answers if a.status_code == 204}) == 1
    assert counts(devices.engine) == (1, 1, 0)
    with Session(devices.engine) as db:
        assert len(db.exec(select(UploadSession)).all()) == 1


def _together(target: Any, n: int) -> list[Any]:
    """Run ``target`` in ``n`` threads at once: what each returned, in thread order. A thread that
    raised, or did not finish within a minute, fails the test."""
    results: list[Any] = [None] * n
    errors: list[BaseException | None] = [None] * n

    def run(index: int) -> None:
        try:
            results[index] = target()
        except BaseException as error:  # handed to the test below, not lost in the thread
            errors[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [t.name for t in threads if t.is_alive()], "racing requests still running after 60 s"
    for error in errors:
        if error is not None:
            raise AssertionError(f"a racing request failed: {error!r}") from error
    return results


def test_other_device_bad_key_and_protocol_errors(devices: Devices) -> None:
    client = devices.client()
    audio = tiny_wav(1.0)
    url = create(client, devices.kita, len(audio), recording_id="mine").headers["Location"]
    patch(client, devices.kita, url, 0, audio[:1000])

    # Another department's device sees nothing of it.
    assert head(client, devices.zaisei, url).status_code == 404
    assert patch(client, devices.zaisei, url, 1000, audio[1000:]).status_code == 404
    assert client.delete(url, headers=tus(devices.zaisei)).status_code == 404
    assert client.get(f"{UPLOADS}/recordings/mine", headers=tus(devices.zaisei)).status_code == 404
    assert head(client, devices.kita, f"{UPLOADS}/../../etc").status_code == 404
    assert head(client, devices.kita, f"{UPLOADS}/{'0' * 32}").status_code == 404

    # No key, a wrong key, a user (not a device): 401, and nothing written.
    for key in (None, "kd_guessed"):
        refused = client.post(UPLOADS, headers=tus(key, Upload_Length="10"))
        assert refused.status_code == 401 and JAPANESE.search(refused.json()["detail"])
        assert refused.headers["Tus-Resumable"] == "1.0.0"
        assert patch(client, key or "", url, 1000, audio[1000:]).status_code == 401
    from service.accounts import add_token, add_user
    from service.models import Role

    with Session(devices.engine) as db:  # a user's bearer token is not a device key
        add_user(db, "clerk_kita", Role.clerk, "北区役所 保健福祉課", "correct-horse-battery")
        token = add_token(db, "clerk_kita")
    user = client.post(UPLOADS, headers={**tus(None, Upload_Length="10"), "Authorization": f"Bearer {token}"})
    assert user.status_code == 401

    # Protocol errors: version, content type, lengths, metadata.
    no_version = client.post(UPLOADS, headers={"X-Device-Key": devices.kita, "Upload-Length": "10"})
    assert no_version.status_code == 412 and no_version.headers["Tus-Version"] == "1.0.0"
    wrong_type = client.patch(url, content=b"x", headers=tus(devices.kita, Upload_Offset="1000"))
    assert wrong_type.status_code == 415
    assert client.post(UPLOADS, headers=tus(devices.kita)).status_code == 400
    assert client.post(UPLOADS, headers=tus(devices.kita, Upload_Length="-5")).status_code == 400
    assert create(client, devices.kita, 10, kind="party").status_code == 422
    assert create(client, devices.kita, 10, held_at="昨日").status_code == 422
    assert create(client, devices.kita, 10, speakers="99").status_code == 422
    assert create(client, devices.kita, 2**40).status_code == 413
    too_long = patch(client, devices.kita, url, 1000, audio[1000:] + b"extra")
    assert too_long.status_code == 413
    # The same recording id for a file of another length while the first is still on its way.
    assert create(client, devices.kita, len(audio) + 1, recording_id="mine").status_code == 409
    assert head(client, devices.kita, url).headers["Upload-Offset"] == "1000"

    # Termination: the upload and its bytes are gone.
    assert client.delete(url, headers=tus(devices.kita)).status_code == 204
    assert head(client, devices.kita, url).status_code == 404
    assert counts(devices.engine) == (0, 0, 0)


def test_not_audio_is_refused_and_nothing_is_queued(devices: Devices, service_env: dict[str, str]) -> None:
    client = devices.client()
    text = "議事録メモ: これは音声ではありません。\n".encode() * 200
    url = create(client, devices.kita, len(text), filename="メモ.wav", recording_id="memo").headers["Location"]
    assert patch(client, devices.kita, url, 0, text[:1000]).status_code == 204
    refused = patch(client, devices.kita, url, 1000, text[1000:])
    assert refused.status_code == 415 and JAPANESE.search(refused.json()["detail"])
    assert refused.json()["code"] == "not_audio"
    assert counts(devices.engine) == (0, 0, 0)
    assert head(client, devices.kita, url).status_code == 404  # the upload is cleaned away
    assert leftovers(service_env) == []
    with Session(devices.engine) as db:
        assert db.exec(select(UploadSession)).all() == []
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "recording.upload")).all() == []
    # The device may send the right file under the same id afterwards.
    audio = tiny_wav(1.0)
    retry = create(client, devices.kita, len(audio), recording_id="memo")
    assert retry.status_code == 201
    assert patch(client, devices.kita, retry.headers["Location"], 0, audio).status_code == 204
    assert counts(devices.engine) == (1, 1, 0)


def test_the_bytes_on_disk_are_the_offset(devices: Devices, service_env: dict[str, str]) -> None:
    """After a crash the database may say more (or less) than the file holds: the file is the truth."""
    client = devices.client()
    audio = tiny_wav(1.0)
    url = create(client, devices.kita, len(audio), recording_id="crash").headers["Location"]
    patch(client, devices.kita, url, 0, audio[:20000])
    part = Path(service_env["KIROKU_STORAGE_DIR"]) / "uploads" / f"{url.rsplit('/', 1)[1]}.part"
    with part.open("r+b") as handle:  # the last bytes never reached the disk
        handle.truncate(12000)
    assert head(client, devices.kita, url).headers["Upload-Offset"] == "12000"
    assert patch(client, devices.kita, url, 20000, audio[20000:]).status_code == 409
    assert patch(client, devices.kita, url, 12000, audio[12000:16000]).headers["Upload-Offset"] == "16000"
    with part.open("ab") as handle:  # written, but the process died before the database heard of it
        handle.write(audio[16000:18000])
    assert head(client, devices.kita, url).headers["Upload-Offset"] == "18000"
    done = patch(client, devices.kita, url, 18000, audio[18000:])
    assert done.status_code == 204 and "Kiroku-Recording-Id" in done.headers
    with Session(devices.engine) as db:
        recording = db.exec(select(Recording)).one()
    stored = Path(service_env["KIROKU_STORAGE_DIR"]) / str(recording.audio_path)
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(audio).digest()


# --- over real HTTP: `kiroku serve` and `kiroku device push` -------------------------------------


def meeting_wav(target: Path, megabytes: float = 5.0) -> Path:
    """Real speech (the dialogue fixture, repeated) as 16 kHz PCM WAV of a few MB."""
    clip = (np.clip(load_pcm(DIALOGUE), -1, 1) * 32767).astype("<i2")
    repeats = int(megabytes * 1024 * 1024 / clip.nbytes) + 1
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(np.tile(clip, repeats).tobytes())
    return target


class Proxy:
    """A TCP relay between the client and the server that can cut the first connection after some
    bytes upward, slow the upload down, or hold it after some bytes until released (so a test can
    act while it is under way, whatever the machine's speed)."""

    def __init__(
        self,
        target_port: int,
        cut_after: int | None = None,
        rate: float | None = None,
        hold_after: int | None = None,
    ) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.rate = rate  # bytes per second, upward
        self.hold_after = hold_after  # upward bytes forwarded before waiting for `released`
        self.released = threading.Event()
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            _abort(client)
            return
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
        self._pump(client, upstream, True)

    def _pump(self, source: socket.socket, target: socket.socket, upward: bool) -> None:
        forwarded = 0
        try:
            while data := source.recv(65536):
                if upward and self.rate:
                    time.sleep(len(data) / self.rate)
                holding = upward and self.hold_after is not None and not self.released.is_set()
                if holding and self.hold_after is not None and forwarded + len(data) > self.hold_after:
                    head = max(0, self.hold_after - forwarded)
                    target.sendall(data[:head])
                    forwarded += head
                    data = data[head:]
                    self.released.wait()
                if upward and self.cut_after is not None and self.cuts == 0 and forwarded + len(data) > self.cut_after:
                    self.cuts += 1
                    target.sendall(data[: self.cut_after - forwarded])
                    break
                target.sendall(data)
                forwarded += len(data)
        except OSError:
            pass
        _abort(source)
        _abort(target)

    def close(self) -> None:
        self.closed = True
        self.released.set()
        self.listener.close()


def _abort(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def push_command(path: Path, server: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kiroku", "device", "push", str(path), "--server", server, *extra]


def push_env(key: str) -> dict[str, str]:
    return {**os.environ, "KIROKU_DEVICE_KEY": key}


@pytest.fixture
def device_key(engine: Engine) -> str:
    from service.accounts import add_device

    with Session(engine) as db:
        _device, key = add_device(db, "都島区役所 大会議室", "都島区役所 市民協働課")
    return key


@pytest.fixture
def server(engine: Engine, service_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Process, str]]:
    process, base = start_server(tmp_path, service_process_env(service_env), worker=False)
    try:
        yield process, base
    finally:
        process.kill()


@pytest.mark.slow
def test_push_completes_an_upload_whose_connection_was_cut(
    engine: Engine, server: tuple[Process, str], device_key: str, tmp_path: Path
) -> None:
    _process, base = server
    audio = meeting_wav(tmp_path / "定例会議.wav")
    size = audio.stat().st_size
    proxy = Proxy(int(base.rsplit(":", 1)[1]), cut_after=1_500_000)
    try:
        via = f"http://127.0.0.1:{proxy.port}"
        run = subprocess.run(
            push_command(audio, via, "--title", "定例会議", "--kind", "meeting"),
            env=push_env(device_key),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, run.stderr
        assert proxy.cuts == 1
        recording_id = int(run.stdout.strip())
        assert re.search(r"resuming at byte [1-9]", run.stderr), run.stderr
        with Session(engine) as db:
            recording = db.exec(select(Recording)).one()
            assert recording.id == recording_id and recording.source == "device" and recording.title == "定例会議"
            assert recording.device_recording_id == hashlib.sha256(audio.read_bytes()).hexdigest()
            assert recording.audio_bytes == size
        assert counts(engine) == (1, 1, 0)

        # Pushing the same file again (a device that never heard the answer): the same recording.
        again = subprocess.run(
            push_command(audio, via, "--quiet"), env=push_env(device_key), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert int(again.stdout.strip()) == recording_id and "sent 0 of" in again.stderr
        assert counts(engine) == (1, 1, 0)

        # A wrong key, a file that is not audio, a server that is not there: distinct exit codes.
        memo = tmp_path / "メモ.wav"
        memo.write_bytes("これは音声ではありません。".encode() * 1000)
        nobody = f"http://127.0.0.1:{free_port()}"
        runs = {
            EXIT_KEY: (push_command(audio, via, "--key", "kd_wrong", "--quiet"), dict(os.environ)),
            EXIT_REFUSED: (push_command(memo, via, "--quiet"), push_env(device_key)),
            EXIT_GAVE_UP: (push_command(audio, nobody, "--retries", "2", "--quiet"), push_env(device_key)),
        }
        started = {
            code: subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for code, (args, env) in runs.items()
        }
        for code, process in started.items():
            _out, err = process.communicate(timeout=120)
            assert process.returncode == code and JAPANESE.search(err), (code, process.returncode, err)
        assert "gave up" in err
        assert counts(engine) == (1, 1, 0)
    finally:
        proxy.close()


@pytest.mark.slow
def test_push_resumes_after_the_api_restarts(
    engine: Engine, server: tuple[Process, str], device_key: str, service_env: dict[str, str], tmp_path: Path
) -> None:
    process, base = server
    port = int(base.rsplit(":", 1)[1])
    audio = meeting_wav(tmp_path / "委員会.wav")
    size = audio.stat().st_size
    # The relay holds the upload after 1.5 MB: the server is killed while the PATCH is under way,
    # however fast or slow the machine is.
    proxy = Proxy(port, hold_after=1_500_000)
    uploads = Path(service_env["KIROKU_STORAGE_DIR"]) / "uploads"
    restarted: Process | None = None
    try:
        pushing = subprocess.Popen(
            push_command(audio, f"http://127.0.0.1:{proxy.port}", "--title", "委員会"),
            env=push_env(device_key),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        received = _wait_for_part(uploads, at_least=1_000_000, timeout=60)
        process.kill()  # SIGKILL, mid-upload
        proxy.released.set()
        assert received < size
        restarted = Process(process.args, process.env, tmp_path / "serve-restarted.log").start()
        wait_until_up(base, restarted)
        out, err = pushing.communicate(timeout=180)
        assert pushing.returncode == 0, err
        resumed_at = [int(n) for n in re.findall(r"resuming at byte (\d+)", err)]
        # It went on from what the killed server had written to disk (its database had not heard of
        # those bytes yet: the 4 MB PATCH was still arriving), not from the start.
        assert resumed_at and resumed_at[-1] >= received > 0, err
        with Session(engine) as db:
            recording = db.exec(select(Recording)).one()
            assert recording.id == int(out.strip()) and recording.audio_bytes == size
        assert counts(engine) == (1, 1, 0)
        assert [p for p in uploads.iterdir() if p.suffix == ".part"] == []
    finally:
        proxy.close()
        if restarted is not None:
            restarted.kill()


def _wait_for_part(folder: Path, at_least: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sizes = [0]
        for part in folder.glob("*.part") if folder.exists() else []:
            with contextlib.suppress(FileNotFoundError):  # just stored
                sizes.append(part.stat().st_size)
        if max(sizes) >= at_least:
            return max(sizes)
        time.sleep(0.01)
    raise AssertionError("the upload did not start")

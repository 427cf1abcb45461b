"""The meeting-room agent (``kiroku device watch``) and the device heartbeat.

In-process: the heartbeat route, the admin device list and the alert about a device fallen silent; the
agent's title pattern, config file and completeness check. Over real processes (``kiroku serve`` on
loopback, the agent as ``python -m kiroku device watch``): recordings dropped into a folder (one
written slowly, as a recorder does) reach the server once each, also across a ``kill -9`` of the agent
mid-upload and a server that is down while files arrive; a file that is not audio is refused once and
the agent goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import signal
import socket
import sqlite3
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.models import AuditEvent, Device, Job, Recording, UploadSession, UsageRecord, utcnow
from tests.conftest import DIALOGUE, load_pcm
from tests.service.conftest import PASSWORD
from tests.service.hardening import JAPANESE
from tests.service.processes import Process, free_port, login, service_process_env, start_server, wait_until_up
from tests.service.test_device_uploads import Proxy, _abort

HEARTBEAT = "/api/v1/uploads/heartbeat"


# --- in-process: the heartbeat, the device list, the silent-device alert --------------------------


@dataclass(frozen=True)
class Room:
    engine: Engine
    client: TestClient
    key: str
    device_id: int


@pytest.fixture
def room(engine: Engine) -> Room:
    from api.app import create_app
    from service.accounts import add_device, add_user
    from service.models import Role

    with Session(engine) as db:
        device, key = add_device(db, "北区役所 第1会議室", "北区役所 総務課")
        add_user(db, "root_admin", Role.admin, "デジタル統括室", PASSWORD)
        assert device.id is not None
        return Room(engine, TestClient(create_app()), key, device.id)


def admin_devices(client: TestClient) -> dict[int, dict[str, Any]]:
    answer = client.post("/api/v1/auth/login", json={"username": "root_admin", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    listed = client.get("/api/v1/admin/devices", headers={"X-CSRF-Token": answer.json()["csrf_token"]})
    assert listed.status_code == 200, listed.text
    return {d["id"]: d for d in listed.json()}


def test_a_heartbeat_shows_in_the_admin_device_list(room: Room) -> None:
    before = admin_devices(room.client)[room.device_id]
    assert before["queue_length"] is None and before["agent_version"] is None

    body = {"agent_version": "0.1.0", "queue_length": 3, "free_disk_bytes": 52_000_000_000}
    beat = room.client.post(HEARTBEAT, json=body, headers={"X-Device-Key": room.key})
    assert beat.status_code == 200, beat.text
    assert beat.json()["device_id"] == room.device_id and beat.json()["name"] == "北区役所 第1会議室"

    shown = admin_devices(room.client)[room.device_id]
    assert (shown["agent_version"], shown["queue_length"], shown["free_disk_bytes"]) == ("0.1.0", 3, 52_000_000_000)
    assert shown["last_seen_at"] is not None and shown["heartbeat_at"] is not None
    seen = datetime.fromisoformat(shown["last_seen_at"])
    assert abs((seen.replace(tzinfo=seen.tzinfo or utcnow().tzinfo) - utcnow()).total_seconds()) < 60


def test_a_heartbeat_needs_the_device_key_and_a_sound_body(room: Room) -> None:
    body = {"agent_version": "0.1.0", "queue_length": 0}
    for headers in ({}, {"X-Device-Key": "kd_guessed"}):
        refused = room.client.post(HEARTBEAT, json=body, headers=headers)
        assert refused.status_code == 401 and JAPANESE.search(refused.json()["detail"])
    for bad in ({"agent_version": "", "queue_length": 0}, {"agent_version": "1", "queue_length": -1}, {}):
        answer = room.client.post(HEARTBEAT, json=bad, headers={"X-Device-Key": room.key})
        assert answer.status_code == 422 and JAPANESE.search(answer.json()["detail"]), answer.text
    not_json = room.client.post(HEARTBEAT, content=b"\xff{", headers={"X-Device-Key": room.key})
    assert not_json.status_code == 422
    with Session(room.engine) as db:
        device = db.get(Device, room.device_id)
        assert device is not None and device.heartbeat_at is None  # nothing stored from a bad report


def test_a_device_silent_for_a_day_alerts_the_admins_once(room: Room, service_env: dict[str, str]) -> None:
    from service.maintenance import Upkeep, run_once
    from service.settings import get_settings

    beat = {"agent_version": "0.1.0", "queue_length": 0, "free_disk_bytes": 1}
    assert room.client.post(HEARTBEAT, json=beat, headers={"X-Device-Key": room.key}).status_code == 200
    with Session(room.engine) as db:
        from service.accounts import add_device

        quiet, _ = add_device(db, "財政局 会議室A", "財政局 税務部")  # never sent a heartbeat: never alerted
        quiet.last_seen_at = utcnow() - timedelta(days=5)
        db.add(quiet)
        db.commit()
    settings = get_settings()
    upkeep = Upkeep(stale_after_seconds=30, retention_days=90, storage=Path(service_env["KIROKU_STORAGE_DIR"]))

    def alerts() -> list[AuditEvent]:
        with Session(room.engine) as db:
            return list(db.exec(select(AuditEvent).where(AuditEvent.action == "device.silent")).all())

    def age_heartbeat(hours: float) -> None:
        with Session(room.engine) as db:
            device = db.get(Device, room.device_id)
            assert device is not None
            device.heartbeat_at = utcnow() - timedelta(hours=hours)
            db.add(device)
            db.commit()

    age_heartbeat(settings.device_silent_hours - 1)  # quiet for 23 hours: not yet
    run_once(room.engine, upkeep)
    assert alerts() == []

    age_heartbeat(settings.device_silent_hours + 1)
    run_once(room.engine, upkeep)
    run_once(room.engine, upkeep)  # the same silence is alerted once
    assert [(a.device_id, a.action) for a in alerts()] == [(room.device_id, "device.silent")]
    listed = admin_devices(room.client)
    assert listed[room.device_id]["silence_alerted_at"] is not None  # the console can flag it
    assert all(d["silence_alerted_at"] is None for i, d in listed.items() if i != room.device_id)

    # The device beats again: the silence is over; the next one is alerted again.
    assert room.client.post(HEARTBEAT, json=beat, headers={"X-Device-Key": room.key}).status_code == 200
    with Session(room.engine) as db:
        device = db.get(Device, room.device_id)
        assert device is not None and device.silence_alerted_at is None
    age_heartbeat(settings.device_silent_hours + 2)
    run_once(room.engine, upkeep)
    assert len(alerts()) == 2


# --- in-process: the agent's pieces ---------------------------------------------------------------


def test_the_agent_accepts_the_formats_the_server_accepts() -> None:
    from kiroku.device_agent.config import AUDIO_SUFFIXES
    from service.storage import AUDIO_SUFFIXES as SERVER_SUFFIXES

    assert AUDIO_SUFFIXES == SERVER_SUFFIXES


def test_room_defaults_from_the_config_file_and_the_title_pattern(tmp_path: Path) -> None:
    from kiroku.device_agent.config import ConfigError, load_config, with_values

    path = tmp_path / "device.toml"
    path.write_text(
        'server = "https://kiroku.example.jp"\nkey = "kd_x"\nfolder = "/srv/rec"\n\n'
        '[room]\nname = "北区役所 第1会議室"\nkind = "interview"\nspeakers = 2\n\n'
        '[watch]\nstable_seconds = 30\nmarker = ".done"\n\n[send]\nafter = "delete"\n',
        encoding="utf-8",
    )
    config = load_config(path, required=True).checked()
    assert (config.room, config.kind, config.speakers, config.stable_seconds) == (
        "北区役所 第1会議室",
        "interview",
        2,
        30,
    )
    assert (config.marker, config.after, config.folder) == (".done", "delete", Path("/srv/rec"))
    when = datetime(2026, 12, 7, 10, 5)
    assert config.title_for(Path("rec01.wav"), when) == "北区役所 第1会議室 2026年12月7日 会議"
    other = with_values(config, {"title": "{部屋} {日付} {時刻} 定例 ({ファイル名})", "kind": None})
    assert other.kind == "interview"  # None leaves the file's value
    assert other.title_for(Path("rec01.wav"), when) == "北区役所 第1会議室 2026年12月7日 10:05 定例 (rec01)"
    assert with_values(config, {"marker": "done"}).marker == ".done"

    for text, problem in (
        ('server = "ftp://x"\nkey = "k"\nfolder = "/x"\n', "server"),
        ('server = "http://x"\nkey = "k"\nfolder = "/x"\n[send]\nafter = "archive"\n', "archive_dir"),
        ('server = "http://x"\nkey = "k"\nfolder = "/x"\n[room]\ntitle = "{会場}"\n', "title"),
        ('server = "http://x"\nkey = "k"\nfolder = "/x"\ncolour = 1\n', "colour"),
        ("server = ", "cannot read"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=problem):
            load_config(path, required=True).checked()
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml", required=True)
    assert load_config(tmp_path / "missing.toml", required=False).folder is None


def test_a_file_is_complete_when_it_stops_changing_or_its_marker_appears(tmp_path: Path) -> None:
    from kiroku.device_agent.scan import Seen, Stability

    now = [100.0]
    stability = Stability(stable_seconds=10, clock=lambda: now[0])
    path = tmp_path / "a.wav"
    assert not stability.complete(Seen(path, 1000, 1))
    now[0] += 9
    assert not stability.complete(Seen(path, 1000, 1))
    now[0] += 2
    assert not stability.complete(Seen(path, 2000, 2))  # it grew: the wait starts again
    now[0] += 9
    assert not stability.complete(Seen(path, 2000, 2))
    now[0] += 1
    assert stability.complete(Seen(path, 2000, 2))

    marked = Stability(stable_seconds=10, marker=".done", clock=lambda: now[0])
    assert not marked.complete(Seen(path, 2000, 2))
    now[0] += 60
    assert not marked.complete(Seen(path, 2000, 2))  # stable, but the recorder has not said it is done
    (tmp_path / "a.wav.done").touch()
    assert marked.complete(Seen(path, 2000, 2))


# --- over real processes --------------------------------------------------------------------------


def speech_wav(target: Path, seconds: float, start: float = 0.0) -> bytes:
    """Real speech (the dialogue fixture from ``start`` s, repeated) as 16 kHz mono PCM WAV, as bytes.
    Different starts make different recordings (the same bytes are the same recording to a device)."""
    clip = np.roll((np.clip(load_pcm(DIALOGUE), -1, 1) * 32767).astype("<i2"), -int(start * 16000))
    samples = np.tile(clip, int(seconds * 16000 / clip.size) + 1)[: int(seconds * 16000)]
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(samples.tobytes())
    data = target.read_bytes()
    target.unlink()
    return data


class CountingProxy(Proxy):
    """The relay of the upload tests, counting the requests that create an upload (``POST
    /api/v1/uploads``): a file sent again would show as another."""

    def __init__(self, target_port: int, rate: float | None = None) -> None:
        self.creates = 0
        self._lock = threading.Lock()
        super().__init__(target_port, rate=rate)

    def _pump(self, source: socket.socket, target: socket.socket, upward: bool) -> None:
        try:
            while data := source.recv(65536):
                if upward:
                    with self._lock:
                        self.creates += data.count(b"POST /api/v1/uploads HTTP/1.1\r\n")
                    if self.rate:
                        time.sleep(len(data) / self.rate)
                target.sendall(data)
        except OSError:
            pass
        _abort(source)
        _abort(target)


@dataclass
class Watcher:
    """``kiroku device watch`` as a room PC runs it, with its config file, state database and log."""

    folder: Path
    config: Path
    data_dir: Path
    env: dict[str, str]
    log: Path
    process: Process | None = None

    def start(self) -> Watcher:
        self.process = Process(["device", "watch", "--config", str(self.config)], self.env, self.log).start()
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.kill(sig)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def rows(self) -> dict[str, dict[str, Any]]:
        """The agent's state database, read as it is (the latest row of every file, by name)."""
        database = self.data_dir / "state.sqlite3"
        if not database.exists():
            return {}
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            found = db.execute(
                "SELECT * FROM files WHERE id IN (SELECT max(id) FROM files GROUP BY path) ORDER BY id"
            ).fetchall()
        return {Path(r["path"]).name: dict(r) for r in found}

    def alive(self) -> bool:
        return self.process is not None and self.process.proc is not None and self.process.proc.poll() is None


def wait_for(what: str, check: Callable[[], Any], watcher: Watcher | None = None, timeout: float = 120) -> Any:
    """Poll ``check`` until it returns something true (and return it); fail with the agent's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if watcher is not None:
            assert watcher.alive(), f"the agent stopped while waiting for {what}:\n{watcher.output()}"
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{watcher.output() if watcher else ''}")


def recordings_named(engine: Engine, name: str) -> list[Recording]:
    with Session(engine) as db:
        return list(db.exec(select(Recording).where(Recording.original_filename == name)).all())


def uploads_named(engine: Engine, name: str) -> list[UploadSession]:
    with Session(engine) as db:
        return [u for u in db.exec(select(UploadSession)).all() if u.meta.get("filename") == name]


def make_watcher(tmp_path: Path, server: str, key: str, **send: float) -> Watcher:
    folder, data_dir = tmp_path / "recorder", tmp_path / "agent-data"
    folder.mkdir()
    settings = {"retry_base_seconds": 0.5, "retry_cap_seconds": 2, "heartbeat_seconds": 1, "timeout": 10, **send}
    config = tmp_path / "device.toml"
    config.write_text(
        f'server = "{server}"\nkey = "{key}"\nfolder = "{folder}"\ndata_dir = "{data_dir}"\n\n'
        '[room]\nname = "都島区役所 大会議室"\nspeakers = 2\n\n'
        # Small for the test; a room uses a minute or more. The slow writer below writes every second.
        "[watch]\nstable_seconds = 5\nscan_seconds = 0.2\n\n"
        "[send]\n" + "".join(f"{name} = {value}\n" for name, value in settings.items()),
        encoding="utf-8",
    )
    env = service_process_env({})
    env.pop("KIROKU_DEVICE_KEY", None)
    return Watcher(folder, config, data_dir, env, tmp_path / "agent.log")


@pytest.fixture
def device_key(engine: Engine) -> str:
    from service.accounts import add_device, add_user
    from service.models import Role

    with Session(engine) as db:
        _device, key = add_device(db, "都島区役所 大会議室", "都島区役所 市民協働課")
        add_user(db, "root_admin", Role.admin, "デジタル統括室", PASSWORD)
    return key


postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.mark.slow
@postgres_only
def test_recordings_dropped_in_the_folder_reach_the_server_once_each(
    engine: Engine, service_env: dict[str, str], device_key: str, tmp_path: Path
) -> None:
    """Three recordings, one written slowly over 20 s; the agent killed mid-upload and restarted;
    then the worker transcribes: three recordings, three jobs, three usage records."""
    server, base = start_server(tmp_path, service_process_env(service_env), worker=True)
    proxy = CountingProxy(int(base.rsplit(":", 1)[1]), rate=150_000)  # ~7 s for the large file
    # Small PATCHes, so the server holds part of the large file when the agent is killed.
    watcher = make_watcher(tmp_path, f"http://127.0.0.1:{proxy.port}", device_key, chunk_size=65536)
    try:
        watcher.start()
        wait_for("the agent to start", lambda: "開始しました" in watcher.output(), watcher)

        # 1. A recording copied in at once.
        first = watcher.folder / "2026-12-07_0930_朝会.wav"
        first.write_bytes(speech_wav(tmp_path / "a.wav", 4))
        wait_for("the first recording", lambda: recordings_named(engine, first.name), watcher)

        # 2. A recording written over 20 s, as a recorder does. After each write the agent has seen
        # the new size (its state says so) and the server has nothing of it: no upload, no recording.
        slow = watcher.folder / "room" / "2026-12-07_1000_委員会.wav"
        slow.parent.mkdir()
        audio = speech_wav(tmp_path / "b.wav", 6, start=1)
        pieces = np.array_split(np.frombuffer(audio, dtype=np.uint8), 20)
        with slow.open("wb") as out:
            for piece in pieces:
                out.write(piece.tobytes())
                out.flush()
                size = out.tell()

                def observed(size: int = size) -> bool:
                    row = watcher.rows().get(slow.name)
                    return row is not None and row["size"] == size

                wait_for("the agent to see the file grow", observed, watcher)
                assert watcher.rows()[slow.name]["state"] == "seen"
                assert uploads_named(engine, slow.name) == [] and recordings_named(engine, slow.name) == []
                time.sleep(1.0)  # the recorder's pace (the scenario, not a wait for a state)
        done = wait_for("the slow recording", lambda: recordings_named(engine, slow.name), watcher)
        assert [r.audio_bytes for r in done] == [len(audio)]  # the whole file, never a part
        assert done[0].device_recording_id == hashlib.sha256(audio).hexdigest()
        # The title's date is the day the recorder finished the file (its modification time), not a
        # date written in the test: it must hold on any day it runs.
        finished = datetime.fromtimestamp(slow.stat().st_mtime).astimezone()
        day = f"{finished.year}年{finished.month}月{finished.day}日"
        assert done[0].title == f"都島区役所 大会議室 {day} 会議" and done[0].expected_speakers == 2

        # 3. A larger recording; the agent is killed with SIGKILL while it is being sent.
        large = watcher.folder / "2026-12-07_1400_説明会.wav"
        large_audio = speech_wav(tmp_path / "c.wav", 32, start=2)
        large.write_bytes(large_audio)
        part_dir = Path(service_env["KIROKU_STORAGE_DIR"]) / "uploads"
        wait_for("the upload to be under way", lambda: _part_bytes(part_dir) >= 200_000, watcher)
        watcher.kill()
        assert recordings_named(engine, large.name) == []
        assert watcher.rows()[large.name]["state"] == "sending"
        creates_before = proxy.creates
        watcher.start()
        sent = wait_for("the large recording after the restart", lambda: recordings_named(engine, large.name), watcher)
        assert [r.audio_bytes for r in sent] == [len(large_audio)]
        assert proxy.creates == creates_before + 1  # only the interrupted file; confirmed ones are not sent again
        assert re.search(r"resuming at byte [1-9]", watcher.output()), watcher.output()

        # Three recordings, each once; the worker transcribes each once: one usage record each.
        with Session(engine) as db:
            recordings = db.exec(select(Recording)).all()
            assert sorted(r.original_filename for r in recordings) == sorted([first.name, slow.name, large.name])
            assert len(db.exec(select(UploadSession)).all()) == 3
        wait_for("the three transcriptions", lambda: _jobs_finished(engine) == 3, timeout=600)
        with Session(engine) as db:
            usage = db.exec(select(UsageRecord)).all()
            assert sorted(u.recording_id for u in usage) == sorted(r.id for r in recordings if r.id is not None)
            assert [j.status for j in db.exec(select(Job)).all()] == ["succeeded"] * 3

        # Each file's fate is one line of the log, with the server's recording id.
        log = watcher.output()
        for recording in recordings:
            name = recording.original_filename
            assert re.search(rf"送信完了: (?:room/)?{re.escape(name)} → 録音 ID {recording.id} ", log), log

        # The heartbeat: the device list shows the agent, its version and its (now empty) queue.
        admin = login(base, "root_admin", PASSWORD)
        device = wait_for(
            "a heartbeat with an empty queue",
            lambda: next((d for d in admin.get("/api/v1/admin/devices").json() if d["queue_length"] == 0), None),
            watcher,
        )
        from kiroku import __version__

        assert device["agent_version"] == __version__ and device["free_disk_bytes"] > 0
        assert device["last_seen_at"] is not None
    finally:
        if watcher.process is not None:
            watcher.kill()
        proxy.close()
        server.kill()


def _part_bytes(folder: Path) -> int:
    sizes = [0]
    for part in folder.glob("*.part") if folder.exists() else []:
        with contextlib.suppress(FileNotFoundError):
            sizes.append(part.stat().st_size)
    return max(sizes)


def _jobs_finished(engine: Engine) -> int:
    with Session(engine) as db:
        jobs = db.exec(select(Job).where(col(Job.status).in_(["succeeded", "failed", "canceled"]))).all()
        return len(jobs)


def _outage(
    engine: Engine, service_env: dict[str, str], device_key: str, tmp_path: Path, at_least_seconds: float
) -> None:
    """A file that is not audio is refused once; the server goes down while two recordings arrive
    and comes back: both are sent; the agent never stopped."""
    port = free_port()
    env = service_process_env(service_env)
    args = ["serve", "--port", str(port), "--log-level", "warning", "--no-worker"]
    server = Process(args, env, tmp_path / "serve-1.log").start()
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, server)
    watcher = make_watcher(tmp_path, base, device_key)
    restarted: Process | None = None
    try:
        watcher.start()
        memo = watcher.folder / "議事メモ.wav"  # named like audio, but text
        memo.write_bytes("これは音声ではありません。\n".encode() * 500)
        refused = wait_for("the refusal", lambda: watcher.rows().get(memo.name, {}).get("state") == "refused", watcher)
        assert refused
        assert re.search(r"受付拒否: 議事メモ\.wav — .*HTTP 415", watcher.output()), watcher.output()

        server.kill()  # the server goes away; recordings keep arriving
        stopped = time.monotonic()
        names = ["2026-12-08_0900_朝会.wav", "2026-12-08_1000_定例.wav"]
        for number, name in enumerate(names):
            (watcher.folder / name).write_bytes(speech_wav(tmp_path / f"{number}.wav", 3, start=number))

        def backing_off() -> bool:
            rows = watcher.rows()
            waiting = all(rows.get(n, {}).get("state") in ("queued", "sending") for n in names)
            return waiting and max(rows.get(n, {}).get("attempts", 0) for n in names) >= 3

        wait_for("the agent to try and back off", backing_off, watcher)
        assert "サーバーに届きません" in watcher.output()
        while time.monotonic() - stopped < at_least_seconds:  # the outage's length is the scenario
            assert watcher.alive(), watcher.output()
            time.sleep(1.0)
        assert watcher.alive()
        assert all(recordings_named(engine, n) == [] for n in names)

        restarted = Process(args, env, tmp_path / "serve-2.log").start()
        wait_until_up(base, restarted)
        confirmed = lambda: all(watcher.rows()[n]["state"] == "confirmed" for n in names)  # noqa: E731
        wait_for("both recordings confirmed after the outage", confirmed, watcher)
        rows = watcher.rows()
        for name in names:
            assert [r.id for r in recordings_named(engine, name)] == [rows[name]["recording_id"]]
        assert rows[memo.name]["state"] == "refused" and rows[memo.name]["attempts"] == 1  # not retried
        assert watcher.output().count("受付拒否") == 1
        assert "サーバーに再び接続できました" in watcher.output()
        with Session(engine) as db:
            assert len(db.exec(select(Recording)).all()) == 2
    finally:
        if watcher.process is not None:
            watcher.kill()
        server.kill()
        if restarted is not None:
            restarted.kill()


@pytest.mark.slow
@postgres_only
def test_a_server_outage_and_a_file_that_is_not_audio(
    engine: Engine, service_env: dict[str, str], device_key: str, tmp_path: Path
) -> None:
    _outage(engine, service_env, device_key, tmp_path, at_least_seconds=0)


@pytest.mark.slow
@postgres_only
def test_a_two_minute_server_outage(
    engine: Engine, service_env: dict[str, str], device_key: str, tmp_path: Path
) -> None:
    _outage(engine, service_env, device_key, tmp_path, at_least_seconds=120)


def test_the_agent_stops_cleanly_on_sigterm_and_says_so(tmp_path: Path) -> None:
    """Without a server: the agent starts, waits for it, and stops on SIGTERM with exit code 0."""
    watcher = make_watcher(tmp_path, f"http://127.0.0.1:{free_port()}", "kd_nobody")
    watcher.start()
    try:
        wait_for("the agent to miss the server", lambda: "サーバーに接続できません" in watcher.output(), watcher)
        assert watcher.process is not None and watcher.process.proc is not None
        watcher.process.proc.send_signal(signal.SIGTERM)
        assert watcher.process.proc.wait(timeout=30) == 0
        assert "停止しました / stopped" in watcher.output()
    finally:
        watcher.kill()


def _agent(tmp_path: Path, **settings: Any) -> Any:
    from kiroku.device_agent.agent import Agent
    from kiroku.device_agent.config import AgentConfig, with_values

    folder = tmp_path / "recorder"
    folder.mkdir(parents=True, exist_ok=True)
    values = {"server": "http://127.0.0.1:9", "key": "kd_x", "folder": folder, "data_dir": tmp_path / "data"}
    return Agent(with_values(AgentConfig(), {**values, **settings}).checked())


def test_after_confirmation_a_file_is_kept_archived_or_deleted(tmp_path: Path) -> None:
    archive = tmp_path / "sent"
    agent = _agent(tmp_path, after="archive", archive_dir=archive, marker=".done")
    recorded = agent.folder / "2026" / "12" / "会議.wav"
    recorded.parent.mkdir(parents=True)
    for round_ in range(2):  # the recorder reuses a name: the earlier archived copy is not overwritten
        recorded.write_bytes(b"RIFF" + bytes([round_]) * 100)
        recorded.with_name("会議.wav.done").touch()
        agent._tidy(recorded)
        assert not recorded.exists() and not recorded.with_name("会議.wav.done").exists()
    kept = sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file())
    assert kept == ["2026/12/会議.wav", "2026/12/会議.wav.done", "2026/12/会議_1.wav", "2026/12/会議_1.wav.done"]
    assert (archive / "2026/12/会議.wav").read_bytes() == b"RIFF" + bytes([0]) * 100
    agent.state.close()

    deleting = _agent(tmp_path / "d", after="delete")
    gone = deleting.folder / "a.wav"
    gone.write_bytes(b"x")
    deleting._tidy(gone)
    assert not gone.exists()
    deleting.state.close()

    keeping = _agent(tmp_path / "k")
    kept_file = keeping.folder / "a.wav"
    kept_file.write_bytes(b"x")
    keeping._tidy(kept_file)
    assert kept_file.read_bytes() == b"x"
    keeping.state.close()


def test_a_nearly_full_disk_is_warned_about_once_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import shutil as shutil_module

    from kiroku.device_agent import agent as agent_module

    agent = _agent(tmp_path, min_free_percent=10)
    total = 100 * 1024**3
    usage = shutil_module._ntuple_diskusage(total, total - 5 * 1024**3, 5 * 1024**3)
    monkeypatch.setattr(shutil_module, "disk_usage", lambda _path: usage)
    logger = agent_module.log
    monkeypatch.setattr(logger, "propagate", False)  # counted once, by this handler only
    logger.addHandler(caplog.handler)
    try:
        assert agent._free_disk() == 5 * 1024**3
        assert agent._free_disk() == 5 * 1024**3
    finally:
        logger.removeHandler(caplog.handler)
    warnings = [r.getMessage() for r in caplog.records if "ディスクの空きが少なく" in r.getMessage()]
    assert len(warnings) == 1 and "5.0 GB" in warnings[0] and "(5%)" in warnings[0]
    agent.state.close()


def test_a_folder_out_of_reach_loses_nothing_and_a_file_that_returns_is_sent(tmp_path: Path) -> None:
    """An unmounted share must not turn its queued recordings into "gone"; a file removed before it
    was sent and put back is a recording again."""
    from kiroku.device_agent.scan import Stability

    agent = _agent(tmp_path)
    now = [0.0]
    agent.stability = Stability(10, clock=lambda: now[0])
    recording = agent.folder / "a.wav"
    recording.write_bytes(b"RIFF" + b"\0" * 100)

    def state() -> str:
        return str(agent.state.latest()[recording].state)

    agent._scan()
    now[0] += 11
    agent._scan()
    assert state() == "queued"
    away = tmp_path / "unmounted"
    agent.folder.rename(away)
    agent._scan()
    assert state() == "queued"
    away.rename(agent.folder)
    agent._scan()
    assert state() == "queued"

    aside = tmp_path / "aside.wav"
    recording.rename(aside)
    agent._scan()
    assert state() == "gone"
    aside.rename(recording)
    agent._scan()
    assert state() == "seen"
    now[0] += 11
    agent._scan()
    assert state() == "queued"
    agent.state.close()

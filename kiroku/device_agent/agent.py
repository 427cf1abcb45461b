"""The watching loop: scan the folder, send complete recordings, ride out a server that is down,
report the device's health, and tidy up what the server has confirmed.

One thread (this loop) owns the state database; each send runs in its own thread with the resumable
push and hands its outcome back through a queue. Every file's fate is one line of the log, Japanese
first, with the server's recording id.
"""

from __future__ import annotations

import logging
import queue
import random
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from kiroku import __version__
from kiroku.device_agent.config import AgentConfig
from kiroku.device_agent.scan import Stability, marker_for, recordings
from kiroku.device_agent.state import CONFIRMED, FINAL, GONE, QUEUED, REFUSED, SEEN, SENDING, FileRow, StateDB
from kiroku.device_push import (
    EXIT_CONFLICT,
    EXIT_GAVE_UP,
    EXIT_KEY,
    EXIT_REFUSED,
    EXIT_UNREADABLE,
    Pusher,
    PushError,
    PushOptions,
    PushResult,
    backoff_delay,
    file_digest,
)

AGENT_VERSION = __version__
HEARTBEAT_PATH = "/api/v1/uploads/heartbeat"
STATE_FILE = "state.sqlite3"
PUSH_RETRIES = 2  # inside one send; longer outages are the loop's back-off, with the file kept queued
DISK_WARNING_EVERY = 3600.0  # seconds between two warnings about the same nearly full disk

# Exit codes of `kiroku device watch` (besides 0: stopped, or with --once, every file sent).
EXIT_CONFIG = 2  # a setting is missing or wrong
EXIT_FOLDER = 3  # the folder to watch is not there or cannot be read
EXIT_SOME_REFUSED = EXIT_REFUSED  # with --once: the server refused some files

log = logging.getLogger("kiroku.device")


class _Stopping(Exception):
    """The agent is stopping: a send that waits between tries ends at once (its file stays queued)."""


@dataclass(frozen=True)
class _Started:
    row_id: int
    device_recording_id: str


@dataclass(frozen=True)
class _Sent:
    row_id: int
    result: PushResult


@dataclass(frozen=True)
class _Failed:
    row_id: int
    exit_code: int
    message: str


@dataclass(frozen=True)
class _Stopped:
    row_id: int


_Outcome = _Started | _Sent | _Failed | _Stopped


def size_text(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class Agent:
    def __init__(self, config: AgentConfig, stop: threading.Event | None = None) -> None:
        assert config.folder is not None
        self.config = config
        self.folder = config.folder
        self.stop = stop or threading.Event()
        self.state = StateDB(config.data_dir / STATE_FILE)
        self.stability = Stability(config.stable_seconds, config.marker)
        self.outcomes: queue.Queue[_Outcome] = queue.Queue()
        self.inflight: dict[int, threading.Thread] = {}
        self.rng = random.Random()
        self.server_failures = 0  # sends in a row that could not reach the server
        self.server_wait_until = 0.0  # no send before this (time.time()) while the server is down
        self.refused_this_run = 0
        self.ignored: set[Path] = set()
        self.next_scan = 0.0
        self.next_heartbeat = 0.0
        self.last_disk_warning = -DISK_WARNING_EVERY
        self.folder_missing = False

    # --- the loop ------------------------------------------------------------------------------

    def run(self, once: bool = False) -> int:
        if not self.folder.is_dir():
            log.error("監視するフォルダーがありません / the folder to watch is missing: %s", self.folder)
            return EXIT_FOLDER
        resumed = self.state.resume_interrupted()
        log.info(
            "開始しました: フォルダー %s を監視します (版 %s、未送信 %d 件、送信途中から再開 %d 件) / "
            "watching %s (agent %s)",
            self.folder,
            AGENT_VERSION,
            self.state.waiting(),
            resumed,
            self.folder,
            AGENT_VERSION,
        )
        if self._heartbeat(first=True) == EXIT_KEY:
            return EXIT_KEY
        try:
            while not self.stop.is_set():
                now = time.time()
                if now >= self.next_scan:
                    self._scan()
                    self.next_scan = now + self.config.scan_seconds
                self._dispatch(now)
                if now >= self.next_heartbeat:
                    self._heartbeat()
                if once and not self.inflight and self.state.waiting() == 0:
                    break
                self._collect(timeout=min(0.5, self.config.scan_seconds))
            if once:
                log.info("未送信の録音はありません。終了します / nothing left to send; exiting")
        finally:
            self._shut_down()
        return EXIT_SOME_REFUSED if once and self.refused_this_run else 0

    def _shut_down(self) -> None:
        self.stop.set()
        deadline = time.monotonic() + 5.0
        for thread in list(self.inflight.values()):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        while True:  # what the sends said on their way out (a send cut short stays queued)
            try:
                self._handle(self.outcomes.get_nowait())
            except queue.Empty:
                break
        if self.inflight:
            log.info(
                "送信途中の %d 件は次回の起動時に続きから送ります / %d sends resume at the next start",
                len(self.inflight),
                len(self.inflight),
            )
        self._heartbeat(timeout=3.0)  # the queue as it is left
        self.state.close()
        log.info("停止しました / stopped")

    # --- the folder ----------------------------------------------------------------------------

    def _scan(self) -> None:
        if not self.folder.is_dir():  # an unmounted share or unplugged disk: nothing is judged gone
            if not self.folder_missing:
                log.warning("監視するフォルダーが見えません: %s / the folder is not reachable", self.folder)
            self.folder_missing = True
            return
        if self.folder_missing:
            log.info("監視するフォルダーが再び見えます / the folder is reachable again")
            self.folder_missing = False
        latest = self.state.latest()
        present: set[Path] = set()
        skip = self.config.archive_dir if self.config.after == "archive" else None
        for seen in recordings(self.folder, self.config.extensions, skip=skip):
            present.add(seen.path)
            row = latest.get(seen.path)
            same = row is not None and (row.size, row.mtime_ns) == (seen.size, seen.mtime_ns)
            # Sent or refused as it is: done. A file that was gone and is back is a recording again.
            if row is not None and (row.state == SENDING or (row.state in (CONFIRMED, REFUSED) and same)):
                continue
            if row is None or row.state in FINAL:
                row = self.state.add(seen.path, seen.size, seen.mtime_ns)
                log.info(
                    "新しい録音を見つけました。書き込みの完了を待ちます: %s / new recording, waiting until complete",
                    self._name(seen.path),
                )
            elif not same:
                if row.state == QUEUED:
                    log.info(
                        "書き込みが続いています。完了を待ち直します: %s / the file changed again; waiting",
                        self._name(seen.path),
                    )
                self.state.update(row.id, size=seen.size, mtime_ns=seen.mtime_ns, state=SEEN)
                row = self.state.get(row.id)
            if self.stability.complete(seen) and row.state == SEEN:
                self.state.update(row.id, state=QUEUED, next_try=0)
                log.info(
                    "書き込みが完了しました。送信待ちに入れます: %s (%s) / complete, queued",
                    self._name(seen.path),
                    size_text(seen.size),
                )
        for path, row in latest.items():
            if row.state in (SEEN, QUEUED) and path not in present and not path.exists():
                self.state.update(row.id, state=GONE, message="removed before it was sent")
                self.stability.forget(path)
                log.warning(
                    "送信前にファイルがなくなりました: %s / the file was removed before it was sent", self._name(path)
                )

    def _name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.folder))
        except ValueError:
            return str(path)

    # --- sending -------------------------------------------------------------------------------

    def _dispatch(self, now: float) -> None:
        free = self.config.parallel - len(self.inflight)
        if free <= 0 or now < self.server_wait_until or self.stop.is_set():
            return
        for row in self.state.due(now, free):
            self.state.update(row.id, state=SENDING, attempts=row.attempts + 1)
            thread = threading.Thread(target=self._send, args=(row,), name=f"send-{row.id}", daemon=True)
            self.inflight[row.id] = thread
            log.info("送信を始めます: %s / sending", self._name(row.path))
            thread.start()

    def _send(self, row: FileRow) -> None:
        """One file, in its own thread: never raises; its outcome goes to the queue."""
        try:
            recording_id = row.device_recording_id or file_digest(row.path)
            self.outcomes.put(_Started(row.id, recording_id))
            when = datetime.fromtimestamp(row.mtime_ns / 1e9).astimezone()
            config = self.config
            options = PushOptions(
                server=config.server,
                key=config.key,
                title=config.title_for(row.path, when),
                kind=config.kind,
                recording_id=recording_id,
                held_at=when.isoformat(timespec="seconds"),
                speakers=config.speakers,
                timeout=config.timeout,
                chunk_size=config.chunk_size,
                retries=PUSH_RETRIES,
                backoff_base=config.retry_base_seconds,
                backoff_cap=config.retry_cap_seconds,
                quiet=True,
            )
            name = self._name(row.path)
            result = Pusher(row.path, options, notify=lambda m: self._notify(name, m), sleep=self._sleep).run()
            self.outcomes.put(_Sent(row.id, result))
        except PushError as error:
            self.outcomes.put(_Failed(row.id, error.exit_code, error.message))
        except OSError as error:
            self.outcomes.put(_Failed(row.id, EXIT_UNREADABLE, f"ファイルを読めません / cannot read the file: {error}"))
        except _Stopping:
            self.outcomes.put(_Stopped(row.id))
        except Exception as error:  # a bug must not stop the room's other recordings
            log.exception("送信中に予期しないエラー / unexpected error while sending %s", self._name(row.path))
            self.outcomes.put(_Failed(row.id, EXIT_UNREADABLE, f"予期しないエラー / unexpected error: {error!r}"))

    def _notify(self, name: str, message: str) -> None:
        text = message.removeprefix("kiroku: ")
        if "resuming at byte" in text or "upload gone" in text:
            log.info("%s: %s", name, text)
        else:  # one try failed; the send's own retries follow, the outcome is logged once
            log.debug("%s: %s", name, text)

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise _Stopping

    def _collect(self, timeout: float) -> None:
        try:
            self._handle(self.outcomes.get(timeout=timeout))
        except queue.Empty:
            return
        while True:
            try:
                self._handle(self.outcomes.get_nowait())
            except queue.Empty:
                return

    def _handle(self, outcome: _Outcome) -> None:
        if isinstance(outcome, _Started):
            self.state.update(outcome.row_id, device_recording_id=outcome.device_recording_id)
            return
        self.inflight.pop(outcome.row_id, None)
        row = self.state.get(outcome.row_id)
        name = self._name(row.path)
        if isinstance(outcome, _Stopped):
            self.state.update(row.id, state=QUEUED)
        elif isinstance(outcome, _Sent):
            self._confirmed(row, outcome.result)
        elif outcome.exit_code in (EXIT_REFUSED, EXIT_CONFLICT):
            self.state.update(row.id, state=REFUSED, message=outcome.message)
            self.refused_this_run += 1
            log.error(
                "受付拒否: %s — %s。このファイルは再送しません (差し替えると送り直します) / "
                "refused by the server, not retried",
                name,
                outcome.message,
            )
        elif outcome.exit_code in (EXIT_GAVE_UP, EXIT_KEY):
            self.state.update(row.id, state=QUEUED, message=outcome.message)
            self._server_trouble(outcome.exit_code, outcome.message)
        elif not row.path.exists():
            self.state.update(row.id, state=GONE, message=outcome.message)
            log.warning("送信前にファイルがなくなりました: %s / the file was removed before it was sent", name)
        else:
            delay = backoff_delay(row.attempts, self.config.retry_base_seconds, self.config.retry_cap_seconds, self.rng)
            self.state.update(row.id, state=QUEUED, message=outcome.message, next_try=time.time() + delay)
            log.warning("送信できません: %s — %s。%.1f 秒後に再試行します / retrying", name, outcome.message, delay)

    def _confirmed(self, row: FileRow, result: PushResult) -> None:
        self.state.update(row.id, state=CONFIRMED, recording_id=result.recording_id, message="")
        if self.server_failures:
            log.info("サーバーに再び接続できました / the server is reachable again")
        self.server_failures, self.server_wait_until = 0, 0.0
        how = "既にサーバーにありました" if result.already else "送信完了"
        log.info(
            "%s: %s → 録音 ID %d (%s、再開 %d 回) / %s: recording %d",
            how,
            self._name(row.path),
            result.recording_id,
            size_text(result.size),
            result.resumes,
            "already on the server" if result.already else "sent",
            result.recording_id,
        )
        self._tidy(row.path)

    def _server_trouble(self, exit_code: int, message: str) -> None:
        """The server cannot be reached (or refuses the key): every send waits, with back-off."""
        self.server_failures += 1
        base, cap = self.config.retry_base_seconds, self.config.retry_cap_seconds
        delay = cap if exit_code == EXIT_KEY else backoff_delay(self.server_failures, base, cap, self.rng)
        self.server_wait_until = max(self.server_wait_until, time.time() + delay)
        if exit_code == EXIT_KEY:
            log.error(
                "機器キーが拒否されました。管理者に機器キーを確認してください。%.1f 秒後に再試行します / "
                "the device key was refused; retrying in %.1f s",
                delay,
                delay,
            )
        else:
            log.warning(
                "サーバーに届きません。%.1f 秒後に再試行します (未送信 %d 件) / unreachable (%s); retry in %.1f s",
                delay,
                self.state.waiting(),
                message.rsplit("(", 1)[-1].rstrip(")"),
                delay,
            )

    # --- after the server confirmed ------------------------------------------------------------

    def _tidy(self, path: Path) -> None:
        """Keep, archive or delete the local file (and its marker), as configured."""
        after = self.config.after
        if after == "keep":
            return
        marker = marker_for(path, self.config.marker)
        try:
            if after == "delete":
                path.unlink(missing_ok=True)
                if marker is not None:
                    marker.unlink(missing_ok=True)
                log.info("送信済みのファイルを削除しました: %s / deleted after sending", self._name(path))
                return
            assert self.config.archive_dir is not None
            target = self._archive_target(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
            if marker is not None:
                shutil.move(str(marker), str(target.with_name(target.name + self.config.marker)))
            log.info("送信済みのファイルを移動しました: %s → %s / archived", self._name(path), target)
        except OSError as error:
            log.warning("送信後の整理ができません: %s (%s) / could not %s the file", self._name(path), error, after)

    def _archive_target(self, path: Path) -> Path:
        assert self.config.archive_dir is not None
        target = self.config.archive_dir / path.relative_to(self.folder)
        number = 1
        while target.exists():  # never overwrite an earlier recording of the same name
            target = target.with_name(f"{path.stem}_{number}{path.suffix}")
            number += 1
        return target

    # --- health --------------------------------------------------------------------------------

    def _free_disk(self) -> int | None:
        try:
            usage = shutil.disk_usage(self.folder)
        except OSError:
            return None
        percent = 100.0 * usage.free / usage.total if usage.total else 100.0
        now = time.monotonic()
        if percent < self.config.min_free_percent and now - self.last_disk_warning >= DISK_WARNING_EVERY:
            self.last_disk_warning = now
            log.warning(
                "ディスクの空きが少なくなっています: 残り %s (%.0f%%)。送信済みの録音の整理を検討してください / "
                "disk nearly full: %s free (%.0f%%)",
                size_text(usage.free),
                percent,
                size_text(usage.free),
                percent,
            )
        return usage.free

    def _heartbeat(self, first: bool = False, timeout: float = 15.0) -> int | None:
        """Tell the server this device is alive; at the first one, learn whether the key is accepted."""
        self.next_heartbeat = time.time() + self.config.heartbeat_seconds
        body = {"agent_version": AGENT_VERSION, "queue_length": self.state.waiting(), "free_disk_bytes": None}
        body["free_disk_bytes"] = self._free_disk()
        try:
            response = httpx.post(
                self.config.server.rstrip("/") + HEARTBEAT_PATH,
                json=body,
                headers={"X-Device-Key": self.config.key},
                timeout=min(self.config.timeout, timeout),
            )
        except httpx.HTTPError as error:
            if first:
                log.warning(
                    "サーバーに接続できません。録音は届くようになるまで待機します / cannot reach the server yet (%s)",
                    type(error).__name__,
                )
            return None
        if response.status_code in (401, 403):
            log.error(
                "機器キーが拒否されました (HTTP %d)。管理画面で機器キーを確認してください / the device key was refused",
                response.status_code,
            )
            return EXIT_KEY
        if first and response.status_code == 200:
            try:
                device = response.json()
            except ValueError:
                device = {}
            log.info(
                "サーバーに接続しました: 機器「%s」として送信します / connected as device %s",
                device.get("name", "?"),
                device.get("device_id", "?"),
            )
        return None


_LEVELS = {"DEBUG": "詳細", "INFO": "情報", "WARNING": "警告", "ERROR": "エラー", "CRITICAL": "重大"}


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.level_ja = _LEVELS.get(record.levelname, record.levelname)
        return super().format(record)


def setup_logging(verbose: bool, log_file: Path | None) -> None:
    """Lines like ``2026-12-07 10:02:11 情報 送信完了: 会議.wav → 録音 ID 42 …`` on stderr (the journal,
    or the Windows service's log) and, if set, in a file."""
    formatter = _Formatter("%(asctime)s %(level_ja)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd), SIGINT (Ctrl+C) and, on Windows, Ctrl+Break end the loop cleanly."""

    def handler(signum: int, frame: object) -> None:
        stop.set()

    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)

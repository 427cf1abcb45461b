"""``kiroku device push``: the reference client of the device upload (tus 1.0, ``/api/v1/uploads``).

It creates the upload, sends the file in chunks (4 MB by default) and, when the connection drops or
the server answers 5xx, waits (exponential back-off with jitter, capped), asks the server how many
bytes it has (``HEAD``) and goes on from there. The device's own id for the recording (by default
the SHA-256 of the file's content) makes a repeated push harmless: the server returns the recording
it already has instead of making a second one. It succeeds only when the server confirms the
recording (``GET /api/v1/uploads/recordings/{id}``).
"""

from __future__ import annotations

import base64
import hashlib
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx
from tqdm import tqdm

T = TypeVar("T")
VERSION = "1.0.0"  # tus
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
ENDPOINT = "/api/v1/uploads"
RECORDING_HEADER = "Kiroku-Recording-Id"
CHUNK_SIZE = 4 * 1024 * 1024
PIECE = 64 * 1024  # what one write to the socket carries (and how often the bar moves)

# Exit codes (0: the server confirmed the recording; 2: wrong usage; 130: interrupted).
EXIT_UNREADABLE = 3  # the file cannot be read
EXIT_KEY = 11  # the server refused the device key (401/403)
EXIT_REFUSED = 12  # the server refused the file (415 not audio, 413 too large, 4xx metadata)
EXIT_GAVE_UP = 13  # the server could not be reached, or kept failing, through every retry
EXIT_CONFLICT = 14  # the recording id is in use for a different file still being sent
EXIT_CODES = {
    0: "送信完了 / the server has the recording",
    EXIT_UNREADABLE: "ファイルを読めない / the file cannot be read",
    EXIT_KEY: "機器キーが拒否された / the device key was refused",
    EXIT_REFUSED: "ファイルが拒否された / the server refused the file",
    EXIT_GAVE_UP: "再試行しても届かない / gave up after the retries",
    EXIT_CONFLICT: "録音 ID が別のファイルで使用中 / recording id in use for another file",
}


class PushError(Exception):
    """The push cannot succeed; ``message`` is Japanese first, then English."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


class _Retryable(Exception):
    """A dropped connection, a timeout or a server error: wait, then learn the offset and go on."""


@dataclass(frozen=True)
class PushOptions:
    server: str
    key: str
    title: str = ""
    kind: str = "meeting"
    recording_id: str | None = None  # None: the SHA-256 of the file's content
    held_at: str | None = None
    speakers: int | None = None
    timeout: float = 60.0  # seconds to wait for the server on each request
    chunk_size: int = CHUNK_SIZE
    retries: int = 10  # failed attempts in a row (without progress) before giving up
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    quiet: bool = False


@dataclass(frozen=True)
class PushResult:
    recording_id: int
    device_recording_id: str
    status: str | None
    size: int
    sent: int  # bytes sent in PATCH bodies, including any a dropped connection lost
    resumes: int  # times the upload went on from the server's offset after a failure
    already: bool  # the server had the whole file before this run sent anything


@dataclass
class _State:
    offset: int
    recording_id: int | None = None


def encode_metadata(values: dict[str, str]) -> str:
    """tus ``Upload-Metadata``: ``key base64(value)`` pairs; empty values are left out."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}" for key, value in values.items() if value
    )


def _to_stderr(message: str) -> None:
    tqdm.write(message, file=sys.stderr)  # above the progress bar, not through it


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def backoff_delay(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential, capped, with jitter (between half and all of the step), so many devices that
    lost the server at once do not come back at the same instant."""
    step = min(cap, base * 2.0 ** max(0, failures - 1))
    return step / 2 + rng.uniform(0, step / 2)


class Pusher:
    def __init__(
        self,
        path: Path,
        options: PushOptions,
        notify: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.options = options
        self.notify = notify or _to_stderr
        self.sleep = sleep
        self.rng = random.Random()
        self.base = options.server.rstrip("/")
        self.failures = 0
        self.last_problem = ""
        self.sent = 0
        self.resumes = 0
        self.size = 0
        self.url = ""
        self.bar: Any = None

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> PushResult:
        try:
            if not self.path.is_file():
                raise OSError(f"not a file: {self.path}")
            self.size = self.path.stat().st_size
            device_recording_id = self.options.recording_id or file_digest(self.path)
        except OSError as error:
            raise PushError(
                EXIT_UNREADABLE, f"ファイルを読めません / cannot read the file: {self.path} ({error})"
            ) from None
        headers = {"Tus-Resumable": VERSION, "X-Device-Key": self.options.key}
        timeout = httpx.Timeout(self.options.timeout)
        with (
            httpx.Client(headers=headers, timeout=timeout) as client,
            tqdm(
                total=self.size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                disable=True if self.options.quiet else None,  # None: only on a terminal
                leave=False,
                desc="送信",
            ) as bar,
        ):
            self.bar = bar
            state = self._create(client, device_recording_id)
            already = state.recording_id is not None
            while state.recording_id is None:
                state = self._step(client, state, device_recording_id)
            self._show(self.size)
            confirmed = self._retrying(lambda: self._confirm(client, device_recording_id))
        if confirmed.get("id") != state.recording_id:
            raise PushError(
                EXIT_GAVE_UP,
                f"サーバーが録音を確認できませんでした / the server did not confirm the recording: {confirmed}",
            )
        return PushResult(
            recording_id=state.recording_id,
            device_recording_id=device_recording_id,
            status=confirmed.get("status"),
            size=self.size,
            sent=self.sent,
            resumes=self.resumes,
            already=already,
        )

    def _step(self, client: httpx.Client, state: _State, device_recording_id: str) -> _State:
        """One PATCH (or, after a failure, the wait and the server's offset)."""
        try:
            return self._patch(client, state.offset)
        except _Retryable as problem:
            self._failed(str(problem))
        resumed = self._retrying(lambda: self._head(client))
        if resumed is None:  # the server no longer knows the upload: start it again
            self.notify(
                "kiroku: サーバーにアップロードがありません。作り直します / upload gone on the server; restarting"
            )
            return self._create(client, device_recording_id)
        self._show(resumed.offset)
        if resumed.recording_id is None:
            self.resumes += 1
            self.notify(f"kiroku: {resumed.offset:,} バイト目から再開します / resuming at byte {resumed.offset}")
        return resumed

    # --- requests ------------------------------------------------------------------------------

    def _create(self, client: httpx.Client, device_recording_id: str) -> _State:
        metadata = {
            "filename": self.path.name,
            "title": self.options.title,
            "kind": self.options.kind,
            "held_at": self.options.held_at or "",
            "speakers": str(self.options.speakers) if self.options.speakers else "",
            "recording_id": device_recording_id,
        }
        headers = {"Upload-Length": str(self.size), "Upload-Metadata": encode_metadata(metadata)}

        def create() -> _State:
            response = self._send(client, "POST", self.base + ENDPOINT, headers=headers)
            if response.status_code == 409:
                raise PushError(EXIT_CONFLICT, self._refusal(response, "録音 ID が使用中 / recording id in use"))
            if response.status_code not in (200, 201) or "location" not in response.headers:
                raise _Retryable(f"unexpected answer {response.status_code} to POST")
            self.url = self._same_origin(response.headers["location"])
            state = self._state(response)
            return state if state is not None else self._head(client) or _State(0)

        state = self._retrying(create)
        if state.recording_id is None and state.offset > 0:
            self.resumes += 1
            self.notify(f"kiroku: {state.offset:,} バイト目から再開します / resuming at byte {state.offset}")
        self._show(state.offset)
        return state

    def _head(self, client: httpx.Client) -> _State | None:
        response = self._send(client, "HEAD", self.url)
        if response.status_code in (404, 410):
            return None
        state = self._state(response) if response.status_code == 200 else None
        if state is None:
            raise _Retryable(f"unexpected answer {response.status_code} to HEAD")
        return state

    def _patch(self, client: httpx.Client, offset: int) -> _State:
        if offset > self.size:
            raise PushError(
                EXIT_GAVE_UP, f"サーバーの受信量がファイルより大きい / the server has {offset} of {self.size} bytes"
            )
        count = min(self.options.chunk_size, self.size - offset)
        headers = {
            "Content-Type": OFFSET_CONTENT_TYPE,
            "Upload-Offset": str(offset),
            "Content-Length": str(count),
        }
        response = self._send(client, "PATCH", self.url, headers=headers, content=self._pieces(offset, count))
        if response.status_code in (404, 409, 410):  # gone, or the server has a different offset: ask
            raise _Retryable(f"{response.status_code} to PATCH at {offset}")
        state = self._state(response) if response.status_code == 204 else None
        if state is None:
            raise _Retryable(f"unexpected answer {response.status_code} to PATCH")
        if state.offset > offset:
            self.failures = 0  # progress: the retry budget starts again
        self._show(state.offset)
        return state

    def _pieces(self, offset: int, count: int) -> Iterator[bytes]:
        """The chunk read from the file as it is sent (never the whole file in memory)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(offset)
                left = count
                while left > 0:
                    piece = handle.read(min(PIECE, left))
                    if not piece:
                        raise OSError("the file became shorter while it was being sent")
                    left -= len(piece)
                    self.sent += len(piece)
                    self.bar.update(len(piece))
                    yield piece
        except OSError as error:
            raise PushError(EXIT_UNREADABLE, f"ファイルを読めません / cannot read the file: {error}") from None

    def _confirm(self, client: httpx.Client, device_recording_id: str) -> dict[str, Any]:
        url = f"{self.base}{ENDPOINT}/recordings/{quote(device_recording_id, safe='')}"
        response = self._send(client, "GET", url)
        if response.status_code != 200:
            raise _Retryable(f"unexpected answer {response.status_code} to the confirmation")
        body: dict[str, Any] = response.json()
        return body

    def _send(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request. Network errors, 5xx, 408, 423 and 429 are worth another try; a refused key or
        file ends the push; any other answer is for the caller."""
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as error:
            raise _Retryable(f"{type(error).__name__}: {error}") from None
        status = response.status_code
        if status >= 500 or status in (408, 423, 429):
            raise _Retryable(f"HTTP {status}")
        if status in (401, 403):
            raise PushError(EXIT_KEY, self._refusal(response, "機器キーが拒否されました / the device key was refused"))
        if status in (400, 413, 415, 422):
            raise PushError(EXIT_REFUSED, self._refusal(response, "ファイルが拒否されました / the file was refused"))
        return response

    # --- helpers -------------------------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], T]) -> T:
        while True:
            try:
                return attempt()
            except _Retryable as problem:
                self._failed(str(problem))

    def _failed(self, problem: str) -> None:
        """Count a failure and wait before the next try; give up when the budget is spent."""
        self.failures += 1
        self.last_problem = problem
        if self.failures > self.options.retries:
            raise PushError(
                EXIT_GAVE_UP,
                f"{self.options.retries} 回再試行しましたが送信できませんでした / "
                f"gave up after {self.options.retries} retries ({problem})",
            )
        delay = backoff_delay(self.failures, self.options.backoff_base, self.options.backoff_cap, self.rng)
        self.notify(
            f"kiroku: 送信に失敗しました。{delay:.1f} 秒後に再試行します / {problem}; retrying in {delay:.1f} s"
        )
        self.sleep(delay)

    def _show(self, offset: int) -> None:
        """The bar shows what the server has (bytes lost with a connection go back off it)."""
        self.bar.n = offset
        self.bar.refresh()

    def _state(self, response: httpx.Response) -> _State | None:
        offset = response.headers.get("upload-offset", "")
        if not offset.isdigit():
            return None
        recording = response.headers.get(RECORDING_HEADER.lower(), "")
        return _State(int(offset), int(recording) if recording.isdigit() else None)

    def _same_origin(self, location: str) -> str:
        """The upload's address on the server we were given: the key is never sent anywhere else."""
        parts, base = urlsplit(urljoin(self.base + ENDPOINT + "/", location)), urlsplit(self.base)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    @staticmethod
    def _refusal(response: httpx.Response, fallback: str) -> str:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = None
        return f"{detail} (HTTP {response.status_code})" if detail else f"{fallback} (HTTP {response.status_code})"


def push(path: Path, options: PushOptions, notify: Callable[[str], None] | None = None) -> PushResult:
    return Pusher(path, options, notify).run()

"""Abuse benchmark (not a test): the security review's reproductions against a real `kiroku serve`.

    python -m bench.abuse [--body-mb 300] [--logins 16] [--spans 4000] [--tree DIR]

Starts `kiroku serve --no-worker` on loopback in a temporary data directory (SQLite), then:

- body: anonymous 300 MB bodies to a CSV import, to the recordings (multipart) and to the login
  (JSON, chunked), and an announced 50 GB import, each over a raw socket that keeps sending until the
  server answers. Prints the answer, the bytes the client got to send, the server's spooled bytes
  (its open temporary files and partial uploads, deleted ones included) and its RSS growth.
- login: ``--logins`` parallel logins with wrong passwords for as many names (each password check is
  argon2's 64 MiB), then 6 wrong passwords for the administrator from one loopback address and the
  right one from another (127.0.0.2): is the owner locked out?
- masking size: a publication copy of a transcript (``--spans`` / 8 turns) gets ``--spans`` manual
  spans, 1000 a save.

Goal (issue 23): anonymous oversized bodies < 2 MB spooled and RSS growth < 50 MB.
``--tree DIR``: run the server from another checkout (e.g. the code before the fix) for comparison.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

PASSWORD = "abuse-bench-password"
MB = 1024 * 1024


# --- the server and what it holds ------------------------------------------------------------------


def start_server(tmp: Path, env: dict[str, str], tree: Path | None) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = (tmp / "serve.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "kiroku", "serve", "--port", str(port), "--log-level", "warning", "--no-worker"],
        env=env,
        cwd=tree,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped; see {tmp / 'serve.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server, port
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server did not start; see {tmp / 'serve.log'}")


def _family(pid: int) -> list[int]:
    """The server and its child processes."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return found


def rss_mb(pid: int) -> float:
    total = 0.0
    for member in _family(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def spooled_bytes(pid: int, folders: list[Path]) -> int:
    """Bytes in the files the server holds open under ``folders`` (deleted temporary files count:
    a spooled upload is an unlinked file), plus the files lying in them."""
    total, seen = 0, set()
    prefixes = tuple(str(f) for f in folders)
    for member in _family(pid):
        try:
            fds = list(Path(f"/proc/{member}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
                info = fd.stat()
            except OSError:
                continue
            if target.startswith(prefixes) and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    for folder in folders:
        for path in folder.rglob("*"):
            try:
                info = path.stat()
            except OSError:
                continue
            if path.is_file() and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total


@dataclass
class Peak:
    rss_growth_mb: float = 0.0
    spooled_mb: float = 0.0


@contextmanager
def watch(pid: int, folders: list[Path]) -> Iterator[Peak]:
    """Peak RSS growth and spooled bytes of the server while the block runs (sampled every 20 ms)."""
    peak, stop = Peak(), threading.Event()
    base = rss_mb(pid)

    def sample() -> None:
        while not stop.is_set():
            peak.rss_growth_mb = max(peak.rss_growth_mb, rss_mb(pid) - base)
            peak.spooled_mb = max(peak.spooled_mb, spooled_bytes(pid, folders) / MB)
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        time.sleep(0.1)  # one more sample after the answer
        stop.set()
        thread.join()


# --- bodies ----------------------------------------------------------------------------------------


@dataclass
class Blast:
    status: str
    sent_mb: float
    seconds: float


def blast(
    port: int, head: str, total: int, chunked: bool = False, announce_only: bool = False, start: bytes = b""
) -> Blast:
    """Send ``head``, then a body of ``total`` bytes (beginning with ``start``) until the server answers;
    returns the answer's first line."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head.encode())
    sent, answer, pending = 0, b"", b""
    chunk = b"\0" * MB
    sock.setblocking(False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        want_write = (sent < total or pending) and not announce_only
        readable, writable, _ = select.select([sock], [sock] if want_write else [], [], 1.0)
        if readable:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            answer += data
            if b"\r\n" in answer or not data:
                break
        if writable:
            if not pending:
                piece = start + chunk[len(start) :] if sent == 0 else chunk
                pending = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
            try:
                written = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                total = sent  # the server hung up: nothing more to send, wait for its answer
                pending = b""
                continue
            except BlockingIOError:
                continue
            pending, sent = pending[written:], sent + written
    sock.close()
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(connection closed, no answer)"
    return Blast(status, sent / MB, time.monotonic() - started)


def body_cases(port: int, size: int, cookie: str) -> list[tuple[str, Callable[[], Blast]]]:
    def request(method: str, path: str, content_type: str, length: int | None, extra: str = "") -> str:
        size_header = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
        start = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        return start + size_header + extra + "\r\n"

    multipart, json_type, huge = "multipart/form-data; boundary=x", "application/json", 50 * 1024**3

    def part(filename: str) -> bytes:  # a well-formed file part: the parser spools what follows
        return f'--x\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'.encode()

    importing, recordings, login = "/api/v1/dictionaries/1/import", "/api/v1/recordings", "/api/v1/auth/login"
    mb = size // MB
    return [
        (
            f"anonymous {mb} MB CSV import",
            lambda: blast(port, request("POST", importing, multipart, size), size, start=part("a.csv")),
        ),
        (
            f"anonymous {mb} MB upload",
            lambda: blast(port, request("POST", recordings, multipart, size), size, start=part("a.wav")),
        ),
        (
            f"anonymous {mb} MB login JSON (chunked)",
            lambda: blast(port, request("POST", login, json_type, None), size, chunked=True, start=b'{"username": "'),
        ),
        (
            "anonymous 50 GB announced import",
            lambda: blast(port, request("POST", importing, multipart, huge), 0, announce_only=True),
        ),
        (
            "signed-in 50 GB announced import",
            lambda: blast(port, request("POST", importing, multipart, huge, cookie), 0, announce_only=True),
        ),
    ]


# --- logins ----------------------------------------------------------------------------------------


def parallel_logins(base: str, count: int) -> Counter[int]:
    statuses: Counter[int] = Counter()

    def one(n: int) -> None:
        wrong = {"username": f"user{n}", "password": "wrong"}
        response = httpx.post(f"{base}/api/v1/auth/login", json=wrong, timeout=60)
        statuses[response.status_code] += 1

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def lockout(base: str) -> tuple[list[int], int]:
    """Six wrong passwords for admin from 127.0.0.1, then the right one from 127.0.0.2."""
    stranger = httpx.Client(base_url=base, timeout=60)
    url = "/api/v1/auth/login"
    tries = [stranger.post(url, json={"username": "admin", "password": f"guess{n}"}).status_code for n in range(6)]
    owner = httpx.Client(base_url=base, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    return tries, owner.post(url, json={"username": "admin", "password": PASSWORD}).status_code


# --- masking size ----------------------------------------------------------------------------------


def seed_transcript(env: dict[str, str], recording_id: int, segments: int) -> None:
    """What a worker leaves behind, written straight to the database (no model needed)."""
    os.environ.update(env)
    from sqlmodel import Session

    from service.db import engine_for
    from service.jobs import latest_job
    from service.models import JobStatus, TranscriptRecord, utcnow
    from transcriber.transcript import Segment, Speaker, Transcript

    text = "本日は北区の山田太郎さんから、電話番号090-1234-5678についてご相談がありました。"
    body = Transcript(
        duration=segments * 5.0,
        speakers=[Speaker(id="S1")],
        segments=[Segment(start=k * 5.0, end=k * 5.0 + 4.5, speaker="S1", text=text) for k in range(segments)],
        model="bench",
    ).to_json_dict()
    with Session(engine_for(env["KIROKU_DATABASE_URL"])) as db:
        db.add(TranscriptRecord(recording_id=recording_id, body=body, model="bench"))
        job = latest_job(db, recording_id)
        assert job is not None
        job.status, job.stage, job.progress, job.finished_at = JobStatus.succeeded, "done", 1.0, utcnow()
        db.add(job)
        db.commit()


def publication_copy(client: httpx.Client, env: dict[str, str], spans: int) -> tuple[int, str, float]:
    """A recording with a transcript of ``spans`` / 8 turns and its publication copy: (id, ETag, seconds)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\1" * 16000)
    made = client.post(
        "/api/v1/recordings", files={"file": ("a.wav", buffer.getvalue(), "audio/wav")}, data={"kind": "meeting"}
    )
    made.raise_for_status()
    recording_id = made.json()["id"]
    seed_transcript(env, recording_id, segments=max(1, spans // 8))  # 8 spans a turn
    started = time.monotonic()
    created = client.post(f"/api/v1/recordings/{recording_id}/publication")
    created.raise_for_status()
    return recording_id, created.headers["ETag"], time.monotonic() - started


def add_spans(client: httpx.Client, recording_id: int, tag: str, spans: int) -> list[tuple[int, float, int]]:
    """``spans`` manual spans, 1000 a save: (spans so far, seconds, status) per save."""
    results = []
    for first in range(0, spans, 1000):
        batch = range(first, min(spans, first + 1000))
        edit = {"add": [{"target": f"segment.{k // 8}", "start": k % 8 * 5, "end": k % 8 * 5 + 4} for k in batch]}
        started = time.monotonic()
        saved = client.put(f"/api/v1/recordings/{recording_id}/publication", json=edit, headers={"If-Match": tag})
        results.append((first + len(edit["add"]), time.monotonic() - started, saved.status_code))
        tag = saved.headers.get("ETag", tag)
    return results


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--body-mb", type=int, default=300)
    parser.add_argument("--logins", type=int, default=16)
    parser.add_argument("--spans", type=int, default=4000)
    parser.add_argument("--tree", type=Path, default=None, help="run the server from this checkout")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kiroku-abuse-"))
    (tmp / "tmpdir").mkdir()
    service_env = {
        "KIROKU_HOME": str(tmp / "home"),
        "KIROKU_DATABASE_URL": f"sqlite:///{tmp / 'kiroku.db'}",
        "KIROKU_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
        "KIROKU_STORAGE_DIR": str(tmp / "storage"),
        "KIROKU_ADMIN_PASSWORD": PASSWORD,
        "TMPDIR": str(tmp / "tmpdir"),  # where the server's temporary (spooled) files go
        # GiNZA's load at start (400+ MB) would land in the middle of the login case's RSS; the
        # masking case loads it when it needs it.
        "KIROKU_WARM_UP_PERSONAL_DATA": "0",
    }
    env = {**os.environ, **service_env}
    if args.tree is not None:
        env["PYTHONPATH"] = str(args.tree)
    server, port = start_server(tmp, env, args.tree)
    base = f"http://127.0.0.1:{port}"
    folders = [tmp / "tmpdir", tmp / "storage"]
    try:
        admin = httpx.Client(base_url=base, timeout=600)
        login = admin.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        login.raise_for_status()
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        cookie = "Cookie: " + "; ".join(f"{k}={v}" for k, v in admin.cookies.items()) + "\r\n"
        where = "this checkout" if args.tree is None else args.tree
        print(f"server: {where}, RSS {rss_mb(server.pid):.0f} MB at start")

        print("\n== bodies ==")
        print(f"{'case':40} {'answer':34} {'sent MB':>8} {'spooled MB':>11} {'RSS +MB':>8} {'s':>6}")
        for name, case in body_cases(port, args.body_mb * MB, cookie):
            with watch(server.pid, folders) as peak:
                result = case()
            print(
                f"{name:40} {result.status[:34]:34} {result.sent_mb:8.1f} {peak.spooled_mb:11.2f} "
                f"{peak.rss_growth_mb:8.1f} {result.seconds:6.2f}"
            )

        print("\n== logins ==")
        with watch(server.pid, folders) as peak:
            started = time.monotonic()
            statuses = parallel_logins(base, args.logins)
        print(
            f"{args.logins} parallel wrong logins: answers {dict(sorted(statuses.items()))}, "
            f"RSS +{peak.rss_growth_mb:.0f} MB peak, {time.monotonic() - started:.1f} s"
        )
        tries, owner = lockout(base)
        print(f"6 wrong passwords for admin from 127.0.0.1: {tries}; the owner from 127.0.0.2: {owner}")

        print("\n== masking size ==")
        recording_id, tag, seconds = publication_copy(admin, service_env, args.spans)
        print(f"publication copy of {args.spans // 8} turns made in {seconds:.1f} s (detection models loaded)")
        with watch(server.pid, folders) as peak:
            for count, seconds, status in add_spans(admin, recording_id, tag, args.spans):
                print(f"{count:5} manual spans: save {status} in {seconds:.2f} s")
        print(f"RSS +{peak.rss_growth_mb:.0f} MB peak during the saves")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    print(f"\n(logs and data: {tmp})")


if __name__ == "__main__":
    main()

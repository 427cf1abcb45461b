"""Load benchmark (not a test): 50 clients listing recordings while 5 others upload 100 MB files.

    python bench/service_load.py [--listers 50] [--uploaders 5] [--upload-mb 100] [--seconds 30]
                                 [--pause 2.0] [--database-url postgresql+psycopg://postgres@127.0.0.1/kiroku_bench]

Starts `kiroku serve --no-worker` on loopback in a temporary data directory (SQLite by default),
seeds 200 recordings, logs every client in, then runs them at once for ``--seconds`` and prints
p50/p95 latency of the listing, the upload times, and the API process's peak resident memory (VmHWM)
read from the kernel. Each uploader sends one 100 MB file after another with curl (from its own
process, as a browser would) at ``--upload-rate`` (100 Mbit/s: an office's wired LAN; 0 for as fast
as loopback goes), so every listing measured is made while five uploads arrive.

A lister behaves as the list page does while a recording is being processed: it lists, and lists
again ``--pause`` seconds after the answer (web/static/js/list.js polls every 2 s). ``--pause 0``
turns the listers into a flood that measures the server's throughput instead: with N clients that
never wait, each one's latency is N / throughput (Little's law), whatever a single listing costs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import httpx
import numpy as np

PASSWORD = "bench-password-1"


def start_server(tmp: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`kiroku serve --no-worker` on a free loopback port, in its own process group; waits for /healthz."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = (tmp / f"serve-{port}.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "kiroku", "serve", "--port", str(port), "--log-level", "warning", "--no-worker"],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped; see {log.name}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"the server did not start; see {log.name}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def login(base: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    response = client.post("/api/v1/auth/login", json={"username": name, "password": password})
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def make_wav(path: Path, megabytes: int) -> Path:
    """A 16 kHz 16-bit mono WAV of about this size: tones and noise (probing only reads the header)."""
    samples = megabytes * 1024 * 1024 // 2
    rng = np.random.default_rng(0)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        block = (rng.normal(0, 2000, 16000 * 60)).astype(np.int16).tobytes()
        written = 0
        while written < samples:
            part = block[: min(len(block), (samples - written) * 2)]
            out.writeframes(part)
            written += len(part) // 2
    return path


def peak_rss_mb(pid: int) -> float:
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            total = int(line.split()[1]) / 1024
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listers", type=int, default=50)
    parser.add_argument("--uploaders", type=int, default=5)
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the listings are measured")
    parser.add_argument(
        "--upload-rate", type=int, default=100, help="each uploader's network speed, Mbit/s (0: as fast as loopback)"
    )
    parser.add_argument("--pause", type=float, default=2.0, help="a lister's wait after each answer (s)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kiroku-load-"))
    service_env = {
        "KIROKU_DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'kiroku.db'}",
        "KIROKU_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
        "KIROKU_STORAGE_DIR": str(tmp / "storage"),
        "KIROKU_ADMIN_PASSWORD": PASSWORD,
        "KIROKU_LOGIN_MAX_FAILURES": "1000",
    }
    env = {**os.environ, **service_env}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kiroku",
            "user",
            "add",
            "bench",
            "--role",
            "clerk",
            "--department",
            "負荷試験課",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    server, base = start_server(tmp, env)
    try:
        seed = make_wav(tmp / "seed.wav", 1)
        client = login(base, "bench", PASSWORD)
        for index in range(200):
            with seed.open("rb") as handle:
                response = client.post(
                    "/api/v1/recordings", files={"file": handle}, data={"kind": "meeting", "title": f"会議 {index}"}
                )
                response.raise_for_status()
        big = make_wav(tmp / "big.wav", args.upload_mb)
        latencies: list[float] = []
        uploads: list[float] = []
        errors: list[str] = []
        stop = threading.Event()
        lock = threading.Lock()

        # Everyone logs in before the clock starts: 55 password checks are not what is measured.
        listing_clients = [login(base, "bench", PASSWORD) for _ in range(args.listers)]
        upload_clients = [login(base, "bench", PASSWORD) for _ in range(args.uploaders)]
        rng = random.Random(0)

        def lister(mine: httpx.Client, first_wait: float) -> None:
            stop.wait(first_wait)  # page loads spread over one poll interval, as people open them
            while not stop.is_set():
                started = time.perf_counter()
                response = mine.get("/api/v1/recordings", params={"limit": 50})
                elapsed = time.perf_counter() - started
                with lock:
                    if stop.is_set():
                        break
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors.append(str(response.status_code))
                stop.wait(args.pause)
            mine.close()

        def uploader(mine: httpx.Client) -> None:
            # curl sends the file, as a browser would: from its own process, not from this one's
            # threads, whose hold on the interpreter would otherwise count in the listings' latency.
            cookies = "; ".join(f"{name}={value}" for name, value in mine.cookies.items())
            command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "600"]
            command += ["-H", f"Cookie: {cookies}", "-H", f"X-CSRF-Token: {mine.headers['X-CSRF-Token']}"]
            if args.upload_rate:
                command += ["--limit-rate", f"{args.upload_rate * 1_000_000 // 8}"]
            command += ["-F", f"file=@{big};type=audio/wav", "-F", "kind=meeting", f"{base}/api/v1/recordings"]
            while not stop.is_set():  # one upload after another until the time is up
                started = time.perf_counter()
                status = subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
                with lock:
                    if status == "201":
                        uploads.append(time.perf_counter() - started)
                    else:
                        errors.append(f"upload {status or 'failed'}")
            mine.close()

        threads = [threading.Thread(target=lister, args=(mine, rng.uniform(0, args.pause))) for mine in listing_clients]
        threads += [threading.Thread(target=uploader, args=(mine,)) for mine in upload_clients]
        print(f"measuring: {args.listers} listers, {args.uploaders} uploads", file=sys.stderr, flush=True)
        wall = time.perf_counter()
        for thread in threads:
            thread.start()
        # Each uploader sends one file after another for the whole time: every listing measured is
        # made while uploads arrive (the last uploads finish after it).
        stop.wait(args.seconds)
        stop.set()
        wall = time.perf_counter() - wall
        for thread in threads:
            thread.join()
        rss = peak_rss_mb(server.pid)
        mode = f"each lists every {args.pause:g} s after its answer" if args.pause else "no pause (a flood)"
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(f"database: {database}; {os.cpu_count()} cores; {wall:.0f} s; {args.listers} listers, {mode}")
        print("| measure | value |\n| --- | --- |")
        print(f"| listing requests | {len(latencies)} ({len(latencies) / wall:.0f}/s, {args.listers} clients) |")
        p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
        print(f"| listing p50 / p95 | {p50:.0f} ms / {p95:.0f} ms |")
        if args.uploaders and uploads:
            mean, slowest = statistics.mean(uploads), max(uploads)
            print(
                f"| {args.upload_mb} MB uploads, {args.uploaders} at a time, "
                f"{f'{args.upload_rate} Mbit/s each' if args.upload_rate else 'unlimited'} | {len(uploads)} done; "
                f"mean {mean:.1f} s, max {slowest:.1f} s |"
            )
        print(f"| errors | {len(errors)} {sorted(set(errors))[:5]} |")
        print(f"| API peak RSS (VmHWM) | {rss:.0f} MB |")
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)  # gigabytes of uploads


if __name__ == "__main__":
    main()

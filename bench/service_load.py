"""Load benchmark (not a test): 50 clients listing recordings while 5 upload 100 MB files.

    python bench/service_load.py [--listers 50] [--uploaders 5] [--upload-mb 100] [--seconds 30]
                                 [--database-url postgresql+psycopg://postgres@127.0.0.1/kiroku_bench]

Starts `kiroku serve --no-worker` on loopback in a temporary data directory (SQLite by default),
seeds 200 recordings, then runs the clients at once and prints p50/p95 latency of the listing, the
upload times, and the API process's peak resident memory (VmHWM) read from the kernel.
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--seconds", type=float, default=30.0)
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

        def lister() -> None:
            mine = login(base, "bench", PASSWORD)
            while not stop.is_set():
                started = time.perf_counter()
                response = mine.get("/api/v1/recordings", params={"limit": 50})
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors.append(str(response.status_code))
            mine.close()

        def uploader() -> None:
            mine = login(base, "bench", PASSWORD)
            mine.timeout = httpx.Timeout(600)
            started = time.perf_counter()
            with big.open("rb") as handle:
                response = mine.post("/api/v1/recordings", files={"file": handle}, data={"kind": "meeting"})
            with lock:
                if response.status_code == 201:
                    uploads.append(time.perf_counter() - started)
                else:
                    errors.append(f"upload {response.status_code}")
            mine.close()

        threads = [threading.Thread(target=lister) for _ in range(args.listers)]
        threads += [threading.Thread(target=uploader) for _ in range(args.uploaders)]
        wall = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - wall
        rss = peak_rss_mb(server.pid)
        print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {os.cpu_count()} cores; {wall:.0f} s")
        print("| measure | value |\n| --- | --- |")
        print(f"| listing requests | {len(latencies)} ({len(latencies) / wall:.0f}/s, {args.listers} clients) |")
        p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
        print(f"| listing p50 / p95 | {p50:.0f} ms / {p95:.0f} ms |")
        if uploads:
            mean, slowest = statistics.mean(uploads), max(uploads)
            print(f"| {args.uploaders} × {args.upload_mb} MB uploads | done; mean {mean:.1f} s, max {slowest:.1f} s |")
        print(f"| errors | {len(errors)} {sorted(set(errors))[:5]} |")
        print(f"| API peak RSS (VmHWM) | {rss:.0f} MB |")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()

"""Real service processes for end-to-end tests: `kiroku serve` and `kiroku worker` as users start them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> Process:
        handle = self.log.open("ab")
        # Its own process group, so kill() takes the worker's children with it.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiroku", *self.args],
            env=self.env,
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def service_process_env(service_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(service_env)
    env.update(extra)
    return env


def wait_until_up(base_url: str, server: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.proc is not None and server.proc.poll() is None, server.output()
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"server did not start:\n{server.output()}")


def start_server(tmp: Path, env: dict[str, str], *, worker: bool) -> tuple[Process, str]:
    port = free_port()
    args = ["serve", "--port", str(port), "--log-level", "warning"] + ([] if worker else ["--no-worker"])
    server = Process(args, env, tmp / f"serve-{port}.log").start()
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, server)
    return server, base


def login(base: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    response = client.post("/api/v1/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def poll_status(client: httpx.Client, recording_id: int, until: set[str], timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: dict[str, object] = {}
    while time.monotonic() < deadline:
        last = client.get(f"/api/v1/recordings/{recording_id}").json()
        if last["status"] in until:
            return last
        time.sleep(0.5)
    raise AssertionError(f"recording {recording_id} stayed {last}")

"""Chaos: the worker killed with SIGKILL at random points while it transcribes, again and again.

A real `kiroku serve --no-worker` and separate `kiroku worker` processes on loopback (SQLite and its
queue broker in a temporary folder, diarization off). N recordings of short real speech are uploaded;
then, K times, the running worker's process group is killed with SIGKILL at a random moment (while
the model loads, while a job decodes or recognises, or while its result is stored) and a new worker
started. The service's own recovery (heartbeats, the stale limit, re-queueing, the fenced store) must
end with every recording transcribed once:

    N succeeded, 0 duplicate usage rows, 0 orphan files (audio without its recording, or left in uploads)

Each kill is an outside event, not a fault of the recording, so the jobs are allowed more attempts
than the default 3 (KIROKU_MAX_ATTEMPTS): the default would fail a recording that happens to be
killed three times, as it should in production, where a worker dying thrice on one file is a sign.

    nice -n 10 .venv/bin/python -m bench.chaos            # 20 recordings, 20 kills
    nice -n 10 .venv/bin/python -m bench.chaos --recordings 5 --kills 5 --seed 7
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bench.service_load import login, start_server, stop_server
from service.models import Job, Recording, TranscriptRecord, UsageRecord

PASSWORD = "chaos-password-1"
AUDIO = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ja_single.flac"  # 7 s of speech
DONE = {"succeeded", "failed", "canceled"}
PEAKS = ".peaks.json"


@dataclass
class Worker:
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    def start(self) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiroku", "worker", "--log-level", "info"],
            env=self.env,
            stdout=handle,
            stderr=handle,
            start_new_session=True,  # its own process group: the kill takes Celery's children too
        )
        self.started = time.monotonic()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def _statuses(client: httpx.Client) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get("/api/v1/recordings", params={"limit": 200}).json()["items"]
    return items


def _wait_running(client: httpx.Client, timeout: float) -> dict[str, object] | None:
    """The recording being transcribed now; None when every one is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = _statuses(client)
        running = [i for i in items if i["status"] == "running"]
        if running:
            return running[0]
        if all(i["status"] in DONE for i in items):
            return None
        time.sleep(0.2)
    raise SystemExit("no job started running in time (see the worker logs)")


def _job_seconds(items: list[dict[str, object]], guess: float) -> float:
    """How long one job takes here (its last attempt's start to its end), for choosing kill moments."""
    spans = [
        (datetime.fromisoformat(str(i["finished_at"])) - datetime.fromisoformat(str(i["started_at"]))).total_seconds()
        for i in items
        if i["status"] == "succeeded" and i.get("started_at") and i.get("finished_at")
    ]
    return max(1.0, min(60.0, sorted(spans)[len(spans) // 2])) if spans else guess


def _files(storage: Path, folder: str) -> set[str]:
    path = storage / folder
    return {f"{folder}/{p.name}" for p in path.iterdir()} if path.is_dir() else set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recordings", type=int, default=20)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--audio", type=Path, default=AUDIO)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds for the whole run")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    tmp = Path(tempfile.mkdtemp(prefix="kiroku-chaos-"))
    database_url = f"sqlite:///{tmp / 'kiroku.db'}"
    storage = tmp / "storage"
    service_env = {
        "KIROKU_DATABASE_URL": database_url,
        "KIROKU_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
        "KIROKU_STORAGE_DIR": str(storage),
        "KIROKU_DIARIZATION": "off",
        "KIROKU_HEARTBEAT_SECONDS": "1",
        "KIROKU_STALE_AFTER_SECONDS": "5",
        "KIROKU_RETRY_BASE_SECONDS": "1",
        "KIROKU_MAX_ATTEMPTS": str(args.kills + 3),
    }
    env = {**os.environ, **service_env}
    add_user = [sys.executable, "-m", "kiroku", "user", "add", "chaos", "--role", "clerk"]
    subprocess.run(
        [*add_user, "--department", "障害試験課", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    server, base = start_server(tmp, env)
    worker = Worker(env, tmp / "worker.log")
    began = time.monotonic()
    kills: list[str] = []
    try:
        clerk = login(base, "chaos", PASSWORD)
        for number in range(args.recordings):
            with args.audio.open("rb") as handle:
                files = {"file": (f"chaos-{number:02d}{args.audio.suffix}", handle)}
                created = clerk.post("/api/v1/recordings", files=files, data={"kind": "meeting"})
            created.raise_for_status()
        print(f"{args.recordings} recordings uploaded ({args.audio.name}); workspace {tmp}", flush=True)
        worker.start()
        job_seconds = 8.0  # a first guess at one job's length; measured from the first that finishes
        while len(kills) < args.kills:
            if rng.random() < 0.2:  # now and then while the worker is still starting (model loading)
                time.sleep(rng.uniform(0.0, 6.0))
                where = "while starting"
            else:
                running = _wait_running(clerk, timeout=600)
                if running is None:
                    print("every recording finished before all kills were made", flush=True)
                    break
                time.sleep(rng.uniform(0.0, job_seconds * 1.2))
                now = next((i for i in _statuses(clerk) if i["id"] == running["id"]), running)
                where = f"recording {running['id']} {now['status']} {now['stage'] or '-'} {now['progress']}"
            worker.kill()
            kills.append(where)
            print(f"kill {len(kills):2d} at {time.monotonic() - began:6.1f} s: {where}", flush=True)
            job_seconds = _job_seconds(_statuses(clerk), job_seconds)
            worker.start()
        deadline = began + args.timeout
        while time.monotonic() < deadline:
            items = _statuses(clerk)
            if all(i["status"] in DONE for i in items):
                break
            time.sleep(1.0)
        elapsed = time.monotonic() - began
    finally:
        worker.kill()
        stop_server(server)

    engine = create_engine(database_url)
    with Session(engine) as db:
        recordings = db.exec(select(Recording)).all()
        jobs = db.exec(select(Job)).all()
        usage = Counter(u.recording_id for u in db.exec(select(UsageRecord)).all())
        transcripts = Counter(t.recording_id for t in db.exec(select(TranscriptRecord)).all())
    statuses = Counter(str(j.status) for j in jobs)
    referenced = {r.audio_path for r in recordings if r.audio_path}
    stored = _files(storage, "audio")
    audio = {name for name in stored if not name.endswith(PEAKS)}
    # A file belongs to a recording: its audio, and the audio's peaks beside it (service.peaks).
    orphans = sorted((audio - referenced) | {p for p in stored - audio if p[: -len(PEAKS)] not in referenced})
    orphans += sorted(_files(storage, "uploads"))  # an upload's temporary file that was never moved
    missing = sorted(referenced - audio)
    duplicates = sum(n - 1 for n in usage.values() if n > 1)
    print()
    print(f"kills: {len(kills)} (SIGKILL to the worker's process group), run {elapsed:.0f} s")
    print(f"jobs: {dict(statuses)}; attempts: {sum(j.attempts for j in jobs)} for {len(jobs)} jobs")
    print(f"succeeded: {statuses.get('succeeded', 0)} of {len(recordings)} recordings")
    print(f"usage rows: {sum(usage.values())} ({len(usage)} recordings), duplicate usage rows: {duplicates}")
    doubled = sum(1 for n in transcripts.values() if n > 1)
    print(f"transcripts: {sum(transcripts.values())}, recordings with more than one: {doubled}")
    print(f"files: {len(audio)} audio, {len(stored) - len(audio)} peaks")
    print(f"orphan files: {len(orphans)} {orphans[:5]}; audio files missing: {len(missing)}")
    ok = (
        statuses.get("succeeded", 0) == len(recordings) == args.recordings
        and duplicates == 0
        and not orphans
        and not missing
        and sum(usage.values()) == len(recordings)
    )
    print("RESULT:", "OK" if ok else "FAILED", flush=True)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""End to end over HTTP against `kiroku serve` (API + worker), and a worker killed mid-job."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.models import Job, UsageRecord
from tests.conftest import DIALOGUE, ENCODINGS, SINGLE, encode, load_pcm
from tests.service.processes import Process, login, poll_status, service_process_env, start_server

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "first-admin-password"


def test_upload_poll_transcript_docx_usage(engine: Engine, service_env: dict[str, str], tmp_path: Path) -> None:
    env = service_process_env(service_env, KIROKU_ADMIN_PASSWORD=ADMIN_PASSWORD)
    # The engine fixture already prepared the database (with its own first admin); use a fresh one.
    from sqlmodel import Session as DbSession

    from service.accounts import add_user
    from service.models import Role

    with DbSession(engine) as db:
        add_user(db, "e2e_clerk", Role.clerk, "港区役所 窓口サービス課", ADMIN_PASSWORD)
        add_user(db, "e2e_manager", Role.manager, "港区役所 窓口サービス課", ADMIN_PASSWORD)
    server, base = start_server(tmp_path, env, worker=True)
    try:
        clerk = login(base, "e2e_clerk", ADMIN_PASSWORD)
        with SINGLE.open("rb") as handle:
            created = clerk.post(
                "/api/v1/recordings",
                files={"file": ("予算説明.flac", handle, "audio/flac")},
                data={"kind": "meeting", "title": "予算説明会"},
            )
        assert created.status_code == 201, created.text
        recording_id = created.json()["id"]
        done = poll_status(clerk, recording_id, {"succeeded", "failed"}, timeout=240)
        assert done["status"] == "succeeded", done
        transcript = clerk.get(f"/api/v1/recordings/{recording_id}/transcript").json()
        assert "予算" in "".join(s["text"] for s in transcript["segments"])
        docx = clerk.get(f"/api/v1/recordings/{recording_id}/export", params={"format": "docx"})
        assert docx.status_code == 200
        docx_path = tmp_path / "minutes.docx"
        docx_path.write_bytes(docx.content)
        assert "予算" in "\n".join(p.text for p in Document(str(docx_path)).paragraphs)
        manager = login(base, "e2e_manager", ADMIN_PASSWORD)
        usage = manager.get("/api/v1/usage").json()
        assert usage["recordings"] == 1
        assert usage["used_hours"] == pytest.approx(9.45 / 3600, abs=0.001)
        assert usage["by_source"] == [{"source": "web", "hours": usage["used_hours"], "recordings": 1}]
    finally:
        server.kill()


def _long_meeting(tmp_path: Path) -> Path:
    """About 75 s of real speech: long enough to kill the worker in the middle of recognition."""
    clips = [load_pcm(DIALOGUE), load_pcm(SINGLE)] * 3
    gap = np.zeros(8000, np.float32)
    audio = np.concatenate([part for clip in clips for part in (clip, gap)])
    return encode(audio, tmp_path / "long_meeting.flac", next(e for e in ENCODINGS if e.name == "flac-44k"))


def test_worker_killed_mid_job_is_requeued_and_counted_once(
    engine: Engine, service_env: dict[str, str], tmp_path: Path
) -> None:
    env = service_process_env(service_env)
    from service.accounts import add_user
    from service.models import Role

    with Session(engine) as db:
        add_user(db, "fault_clerk", Role.clerk, "都島区役所 市民協働課", ADMIN_PASSWORD)
    server, base = start_server(tmp_path, env, worker=False)
    first = second = None
    try:
        clerk = login(base, "fault_clerk", ADMIN_PASSWORD)
        with _long_meeting(tmp_path).open("rb") as handle:
            created = clerk.post("/api/v1/recordings", files={"file": handle}, data={"kind": "meeting"})
        recording_id = created.json()["id"]
        first = Process(["worker", "--log-level", "info"], env, tmp_path / "worker1.log").start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = clerk.get(f"/api/v1/recordings/{recording_id}").json()
            if status["status"] == "running" and status["stage"] == "asr" and status["progress"] > 0.1:
                break
            assert status["status"] in {"queued", "running"}, (status, first.output())
            time.sleep(0.2)
        else:
            raise AssertionError(f"the job never ran:\n{first.output()}")
        first.kill()  # kill -9: no chance to clean up or acknowledge
        second = Process(["worker", "--log-level", "info"], env, tmp_path / "worker2.log").start()
        # Re-queued by the stale limit (6 s here), not after hours: the poll's bound, not a timing
        # claim (how long a recovery takes belongs in bench/chaos.py).
        done = poll_status(clerk, recording_id, {"succeeded", "failed"}, timeout=300)
        assert done["status"] == "succeeded", (done, second.output())
        assert done["attempts"] == 2
        with Session(engine) as db:
            assert len(db.exec(select(UsageRecord)).all()) == 1
            assert db.exec(select(Job)).one().status == "succeeded"
    finally:
        for process in (first, second, server):
            if process is not None:
                process.kill()

"""Logs at INFO and above never hold transcript text, minutes text, titles, original file names or
storage paths (issue 9: operators read and ship logs; recordings of citizens must not end up there).

A real job runs (Whisper base) with everything captured at INFO: the upload, the transcription, the
minutes save and the exports, and the ways a job ends badly (audio that is not audio, a recording cut
short, a crash whose message quotes the transcript and the audio's path).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from service.models import Recording
from tests.conftest import SINGLE
from tests.service.conftest import World, run_queued_job
from tests.service.hardening import wav_header

pytestmark = pytest.mark.slow
R = "/api/v1/recordings"


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Everything a handler at INFO would write: messages, tracebacks and stacks."""
    formatter = logging.Formatter()
    out = []
    for record in caplog.records:
        if record.levelno < logging.INFO:
            continue
        text = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + formatter.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        out.append(text)
    return out


def _pieces(text: str, size: int = 4) -> set[str]:
    """Every run of ``size`` characters: a log quoting part of a sentence is caught too."""
    text = "".join(text.split())
    return {text[i : i + size] for i in range(max(1, len(text) - size + 1))}


def test_logs_hold_no_text_names_or_paths(
    world: World, service_env: dict[str, str], transcribe_fn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the root logger: the service's, the pipeline's and the libraries' records
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    clerk = world.client("clerk_kita")
    original, title, attendees = "田中一郎様_生活保護相談.flac", "田中一郎様 面談", "田中一郎、北区 保健福祉課"

    with SINGLE.open("rb") as handle:
        created = clerk.post(
            R,
            files={"file": (original, handle, "audio/flac")},
            data={"kind": "interview", "title": title, "attendees": attendees},
        ).json()
    assert run_queued_job(world.engine, created["job_id"], transcribe_fn, storage) == "succeeded"
    transcript = clerk.get(f"{R}/{created['id']}/transcript").json()
    machine_text = "".join(s["text"] for s in transcript["segments"])
    assert "予算" in machine_text

    minutes = clerk.get(f"{R}/{created['id']}/minutes").json()
    edited = "生活保護の申請について秘密の相談がありました。"
    minutes["transcript"]["segments"][0]["text"] = edited
    minutes["header"]["purpose"] = "保護費の相談 (山田花子さんの件)"
    saved = clerk.put(f"{R}/{created['id']}/minutes", json=minutes, headers={"If-Match": '"r0"'})
    assert saved.status_code == 200
    for fmt in ("docx", "txt", "json"):
        assert clerk.get(f"{R}/{created['id']}/export", params={"format": fmt}).status_code == 200
    assert clerk.get(f"{R}/{created['id']}/audio").status_code == 200

    # The ways a job ends badly: a file that is not audio (refused at upload), a recording cut short
    # (refused by the worker), and a crash whose message quotes the transcript and the path.
    not_audio = clerk.post(
        R, files={"file": ("山田花子_通話.wav", b"RIFF....not audio", "audio/wav")}, data={"kind": "phone"}
    )
    assert not_audio.status_code == 415
    cut_short = clerk.post(
        R,
        files={"file": ("鈴木次郎_交渉.wav", wav_header(8000, 1, 8, 0xFFFFFFF0, b"\x80" * 32000), "audio/wav")},
        data={"kind": "negotiation", "title": "鈴木次郎 交渉"},
    ).json()
    assert run_queued_job(world.engine, cut_short["job_id"], transcribe_fn, storage) == "failed"
    crashing = clerk.post(
        R, files={"file": ("佐藤三郎.flac", SINGLE.read_bytes(), "audio/flac")}, data={"kind": "meeting"}
    )

    def crash(path: Path, *_: object) -> object:
        raise ValueError(f"could not align {path}: {machine_text}")

    assert run_queued_job(world.engine, crashing.json()["job_id"], crash, storage) == "queued"  # retried later

    with Session(world.engine) as db:
        stored = [db.get(Recording, i) for i in (created["id"], cut_short["id"], crashing.json()["id"])]
    audio_names = [Path(r.audio_path).name for r in stored if r is not None and r.audio_path]
    assert len(audio_names) == 3
    secrets = {
        "the transcript": _pieces(machine_text),
        "the minutes": _pieces(edited) | _pieces("山田花子"),
        "a title": {title, "鈴木次郎 交渉"},
        "the attendees": {attendees},
        "an original file name": {original, Path(original).stem, "山田花子_通話", "鈴木次郎_交渉", "佐藤三郎"},
        "the storage folder": {str(storage), str(storage.resolve())},
        "a stored file name": {name.split(".")[0] for name in audio_names},
    }
    logged = _logged(caplog)
    assert any("s of audio" in line for line in logged), "the pipeline's INFO records were not captured"
    assert any("job" in line and "crashed" in line for line in logged)
    leaks = [
        (what, line[:300])
        for line in logged
        for what, values in secrets.items()
        if any("".join(value.split()) in "".join(line.split()) for value in values)
    ]
    assert not leaks, leaks
    assert any("crashed: ValueError" in line for line in logged)  # what was wrong, without the details

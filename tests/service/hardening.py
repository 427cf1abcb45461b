"""Helpers shared by the hardening tests (fuzzing, security, log privacy): small audio made in memory,
hand-built multipart bodies (any bytes in any place), and a finished job without running Whisper."""

from __future__ import annotations

import io
import re
import struct
import uuid
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from service.jobs import latest_job
from service.models import JobStatus, MinutesRevision, Recording, TranscriptRecord, utcnow
from transcriber.transcript import Segment, Speaker, Transcript, Word

# A message users read has Japanese in it (kana or kanji), not only English.
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# What the server names a stored recording: 32 hex digits and a short lower-case suffix.
SERVER_NAME = re.compile(r"^[0-9a-f]{32}(\.[a-z0-9]{1,5})?$")

TRANSCRIPT_TEXT = ("本日の議題は来年度の予算についてです。", "はい、承知しました。")


def tiny_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A short PCM WAV (a quiet tone): what probing needs, no more."""
    frames = int(seconds * rate)
    samples = bytes(((i // 8) % 2) * 16 for i in range(frames * 2))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def transcript_body() -> dict[str, Any]:
    """A small kiroku.transcript/1 body, as the worker would store it."""
    first, second = TRANSCRIPT_TEXT
    transcript = Transcript(
        duration=4.0,
        speakers=[Speaker(id="S1"), Speaker(id="S2")],
        segments=[
            Segment(start=0.0, end=2.5, speaker="S1", text=first, words=[Word(start=0.0, end=0.6, text="本日")]),
            Segment(start=2.6, end=3.9, speaker="S2", text=second),
        ],
        model="test",
    )
    return transcript.to_json_dict()


def finish(engine: Engine, recording_id: int, body: dict[str, Any] | None = None) -> None:
    """What a worker leaves behind: the stored transcript and a succeeded job."""
    body = body if body is not None else transcript_body()
    with Session(engine) as db:
        db.add(TranscriptRecord(recording_id=recording_id, body=body, model="test"))
        job = latest_job(db, recording_id)
        assert job is not None
        job.status, job.stage, job.progress, job.finished_at = JobStatus.succeeded, "done", 1.0, utcnow()
        db.add(job)
        db.commit()


def counts(engine: Engine) -> tuple[int, int]:
    """(recordings, minutes revisions) in the database."""
    with Session(engine) as db:
        recordings = db.exec(select(func.count()).select_from(Recording)).one()
        revisions = db.exec(select(func.count()).select_from(MinutesRevision)).one()
    return recordings, revisions


def revisions_of(engine: Engine, recording_id: int) -> list[MinutesRevision]:
    with Session(engine) as db:
        query = select(MinutesRevision).where(MinutesRevision.recording_id == recording_id)
        return list(db.exec(query.order_by(col(MinutesRevision.number))).all())


def multipart(fields: list[tuple[bytes, bytes]], filename: bytes | None, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body built byte by byte (any bytes in names, values and the file name).

    Returns (body, content type). ``filename`` None leaves the file part out.
    """
    boundary = uuid.uuid4().hex.encode()
    parts = []
    for name, value in fields:
        parts.append(b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value)
    if filename is not None:
        parts.append(
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + data
        )
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode()}"


# --- crafted audio ----------------------------------------------------------------------------------


def wav_header(rate: int, channels: int, bits: int, data_size: int, data: bytes) -> bytes:
    """A RIFF/WAVE file whose header says what we like, followed by ``data``."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data_size) + data
    return b"RIFF" + struct.pack("<I", len(body) & 0xFFFFFFFF) + body


def silent_flac(path: Path, seconds: float, rate: int = 16000) -> Path:
    """Real FLAC of digital silence (tiny: about 190 bytes a second), written quickly."""
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        stream.format = "s16"
        chunk = 65536
        zeros = np.zeros((1, chunk), np.int16)
        total, offset = int(seconds * rate), 0
        while offset < total:
            size = min(chunk, total - offset)
            frame = av.AudioFrame.from_ndarray(zeros[:, :size], format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, offset, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
            offset += size
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def flac_claiming(source: Path, target: Path, total_samples: int) -> Path:
    """The FLAC with its STREAMINFO total-samples field set (0: unknown) and no MD5."""
    data = bytearray(source.read_bytes())
    assert data[:4] == b"fLaC"
    start = 8 + 10  # STREAMINFO body, then rate(20) channels(3) bits(5) total samples(36) in 8 bytes
    packed = int.from_bytes(data[start : start + 8], "big")
    packed = (packed & ~((1 << 36) - 1)) | (total_samples & ((1 << 36) - 1))
    data[start : start + 8] = packed.to_bytes(8, "big")
    data[start + 8 : start + 24] = bytes(16)
    target.write_bytes(bytes(data))
    return target


def stored_files(storage: Path) -> dict[str, list[str]]:
    """The names in storage/audio and storage/uploads (what an upload may leave behind)."""
    return {
        folder: sorted(p.name for p in (storage / folder).iterdir()) if (storage / folder).is_dir() else []
        for folder in ("audio", "uploads")
    }

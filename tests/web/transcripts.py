"""Synthetic meetings for the editor tests: many utterances with word timings, low-confidence words,
dictionary corrections and fillers, stored straight into the database as a finished recording."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.models import Department, Job, JobStatus, Recording, TranscriptRecord, User
from transcriber.transcript import Transcript

PHRASES = [
    "それでは定刻になりましたので会議を始めます。",
    "本日の議題は来年度の予算についてです。",
    "資料の三ページをご覧ください。",
    "地域の見守り活動について報告します。",
    "前回の会議で出た意見を整理しました。",
    "ご質問があればお願いします。",
    "担当課で確認してから回答いたします。",
    "子育て支援の窓口を増やす予定です。",
    "高齢者の相談件数は増えています。",
    "以上で報告を終わります。",
]


def _words(text: str, start: float, end: float, rng: random.Random, low_every: int) -> list[dict[str, Any]]:
    pieces: list[str] = []
    i = 0
    while i < len(text):
        size = rng.choice((1, 2, 2, 3, 4))
        pieces.append(text[i : i + size])
        i += size
    step = (end - start) / len(pieces)
    words = []
    for n, piece in enumerate(pieces):
        confidence = 0.3 if low_every and n % low_every == low_every - 1 else round(rng.uniform(0.7, 0.99), 2)
        words.append(
            {
                "start": round(start + n * step, 3),
                "end": round(start + (n + 1) * step, 3),
                "text": piece,
                "confidence": confidence,
            }
        )
    return words


def meeting(utterances: int, seed: int = 7, speakers: int = 4) -> dict[str, Any]:
    """kiroku.transcript/1 with ``utterances`` utterances of about 40 characters, 3.5 s each."""
    rng = random.Random(seed)
    segments: list[dict[str, Any]] = []
    corrections: list[dict[str, Any]] = []
    t = 0.0
    for index in range(utterances):
        text = rng.choice(PHRASES) + rng.choice(PHRASES)
        if index % 7 == 3:
            text = "えー、" + text
        if index % 25 == 5:
            text = "杭全の交差点について。" + text
            corrections.append(
                {
                    "segment": index,
                    "start": 0,
                    "end": 2,
                    "before": "クマタ",
                    "after": "杭全",
                    "term": "杭全",
                    "rule": "reading",
                }
            )
        start, end = round(t, 3), round(t + 3.2, 3)
        segments.append(
            {
                "start": start,
                "end": end,
                "speaker": f"S{index % speakers + 1}",
                "text": text,
                "words": _words(text, start, end, rng, low_every=9),
            }
        )
        t += 3.5
    body = {
        "schema": "kiroku.transcript/1",
        "duration": round(t, 3),
        "language": "ja",
        "speakers": [{"id": f"S{n + 1}"} for n in range(speakers)],
        "segments": segments,
        "corrections": corrections,
        "model": "synthetic",
    }
    return Transcript.model_validate(body).to_json_dict()


def store_finished(
    engine: Engine, storage: Path, user: str, title: str, transcript: dict[str, Any], audio: Path | None = None
) -> int:
    """A finished recording of ``user``'s department holding ``transcript`` (and ``audio``, when given)."""
    with Session(engine) as db:
        owner = db.exec(select(User).where(User.name == user)).one()
        assert db.get(Department, owner.department_id) is not None
        audio_path = None
        if audio is not None:
            target = storage / "audio" / f"web-test-{title}{audio.suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(audio, target)
            audio_path = f"audio/{target.name}"
        recording = Recording(
            department_id=owner.department_id,
            kind="meeting",
            title=title,
            held_at=datetime(2026, 4, 15, 1, 0, tzinfo=UTC),
            place="北区役所 3階 第1会議室",
            attendees="山田、佐藤、鈴木",
            original_filename=f"{title}.flac",
            audio_path=audio_path,
            duration_seconds=float(transcript["duration"]),
            uploaded_by_id=owner.id,
        )
        db.add(recording)
        db.flush()
        assert recording.id is not None
        now = datetime.now(UTC)
        db.add(
            Job(
                recording_id=recording.id,
                status=JobStatus.succeeded,
                stage="done",
                progress=1.0,
                attempts=1,
                started_at=now,
                finished_at=now,
            )
        )
        db.add(TranscriptRecord(recording_id=recording.id, body=transcript, model="synthetic"))
        db.commit()
        return recording.id

"""The minutes: the clerk's edited transcript plus the header of the record (会議名, 日時, 場所 …).

Revisions are kept whole; the ETag is the revision number, so a stale save is refused (409)
instead of overwriting another clerk's work.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session, col, select

from dictionaries.text import UNSAFE_CHARACTERS
from service.edit_rate import changed_characters
from service.models import MinutesRevision, Recording, TranscriptRecord
from service.records.fields import FIELDS, header_fields, initial_fields
from transcriber.transcript import Transcript

# Header fields each kind of record shows (labels in Japanese, keys stable for the API): service.records.fields.
HEADER_FIELDS: dict[str, list[tuple[str, str]]] = {kind: header_fields(kind) for kind in FIELDS}


# No time in a transcript may lie beyond this (a week): exports turn times into clocks.
MAX_SECONDS = 7 * 24 * 3600.0


def unsafe_character(value: object) -> str | None:
    """The first unusable character (as ``U+XXXX``) in any string or key of a JSON-like value, else None."""
    pending = [value]
    while pending:  # a loop, not recursion: the value may be nested as deep as JSON allows
        item = pending.pop()
        if isinstance(item, str):
            found = UNSAFE_CHARACTERS.search(item)
            if found:
                return f"U+{ord(found.group()):04X}"
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None


class Minutes(BaseModel):
    header: dict[str, str] = Field(default_factory=dict)
    transcript: Transcript

    @model_validator(mode="before")
    @classmethod
    def _characters(cls, data: Any) -> Any:
        code = unsafe_character(data)
        if code is not None:
            raise ValueError(f"使えない文字 ({code}) が含まれています")
        return data

    @model_validator(mode="after")
    def _times(self) -> Minutes:
        transcript = self.transcript
        times = [transcript.duration]
        for segment in transcript.segments:
            times += [segment.start, segment.end, *(t for w in segment.words for t in (w.start, w.end))]
        times += [t for turn in transcript.turns for t in (turn.start, turn.end)]
        if not all(math.isfinite(t) and t <= MAX_SECONDS for t in times):
            raise ValueError(f"時刻は {MAX_SECONDS:.0f} 秒以内の有限の値にしてください")
        # Flags belong to the machine transcript (review mode reads them there); in edited minutes
        # their segment numbers go stale after a split or merge, so saved minutes never carry them.
        self.transcript.flags = []
        return self


MAX_MINUTES_BYTES = 64 * 1024**2  # a 3-hour meeting's minutes with word timings take about 5 MB
# What PUT minutes accepts, for the OpenAPI page (the body is read by ``minutes_json``, not by FastAPI).
MINUTES_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "required": ["transcript"]}}},
        "description": "GET で読んだ議事録 (header と transcript)。",
    }
}


def edit_counts(machine: dict[str, Any], minutes: Minutes) -> tuple[int, int]:
    """(characters of the machine transcript, characters changed to reach the minutes' text), in
    bounded work however long the minutes (``service.edit_rate``)."""
    before = [str(s.get("text", "")) for s in machine.get("segments", [])]
    return sum(map(len, before)), changed_characters(before, [s.text for s in minutes.transcript.segments])


# The letter before a revision number in an ETag: the minutes' and a publication copy's numbers differ,
# so one resource's tag never passes as the other's.
MINUTES_TAG, PUBLICATION_TAG = "r", "p"


def etag(number: int, tag: str = MINUTES_TAG) -> str:
    return f'"{tag}{number}"'


def parse_etag(value: str, tag: str = MINUTES_TAG) -> int | None:
    """The revision an If-Match names (``"r3"``, ``W/"r3"``, ``r3``); None for anything else."""
    found = re.fullmatch(rf'(?:W/)?"?{re.escape(tag)}([0-9]{{1,9}})"?', value.strip())
    return int(found.group(1)) if found else None


def latest_revision(db: Session, recording_id: int) -> MinutesRevision | None:
    return db.exec(
        select(MinutesRevision)
        .where(MinutesRevision.recording_id == recording_id)
        .order_by(col(MinutesRevision.number).desc())
    ).first()


def initial_header(recording: Recording) -> dict[str, str]:
    """The header of minutes nobody has saved yet: what was entered at upload (``service.records.fields``)."""
    return initial_fields(recording)


def current_minutes(db: Session, recording: Recording) -> tuple[int, dict[str, Any]] | None:
    """(revision number, minutes JSON); revision 0 is the machine transcript itself."""
    assert recording.id is not None
    revision = latest_revision(db, recording.id)
    if revision is not None:
        return revision.number, revision.body
    stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
    if stored is None:
        return None
    return 0, {"header": initial_header(recording), "transcript": stored.body}

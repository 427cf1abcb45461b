"""The minutes: the clerk's edited transcript plus the header of the record (会議名, 日時, 場所 …).

Revisions are kept whole; the ETag is the revision number, so a stale save is refused (409)
instead of overwriting another clerk's work.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from rapidfuzz.distance import Levenshtein
from sqlmodel import Session, col, select

from api.models import MinutesRevision, Recording, TranscriptRecord
from transcriber.transcript import Transcript

# Header fields each kind of record shows (labels in Japanese, keys stable for the API).
HEADER_FIELDS: dict[str, list[tuple[str, str]]] = {
    "meeting": [
        ("title", "会議名"),
        ("held_at", "日時"),
        ("place", "場所"),
        ("attendees", "出席者"),
        ("agenda", "議題"),
    ],
    "interview": [
        ("title", "件名"),
        ("held_at", "日時"),
        ("place", "場所"),
        ("attendees", "面談者"),
        ("purpose", "目的"),
    ],
    "negotiation": [
        ("title", "件名"),
        ("held_at", "日時"),
        ("place", "場所"),
        ("attendees", "出席者"),
        ("counterpart", "相手方"),
    ],
    "phone": [
        ("title", "件名"),
        ("held_at", "受付日時"),
        ("counterpart", "相手"),
        ("subject", "用件"),
        ("response", "対応内容"),
    ],
}


class Minutes(BaseModel):
    header: dict[str, str] = Field(default_factory=dict)
    transcript: Transcript


def edit_counts(machine: dict[str, Any], minutes: Minutes) -> tuple[int, int]:
    """(characters of the machine transcript, characters changed to reach the minutes' text)."""
    machine_text = "".join(str(s.get("text", "")) for s in machine.get("segments", []))
    return len(machine_text), Levenshtein.distance(machine_text, minutes.transcript.text)


def etag(number: int) -> str:
    return f'"r{number}"'


def parse_etag(value: str) -> int | None:
    value = value.strip().removeprefix("W/").strip('"')
    return int(value[1:]) if value.startswith("r") and value[1:].isdigit() else None


def latest_revision(db: Session, recording_id: int) -> MinutesRevision | None:
    return db.exec(
        select(MinutesRevision)
        .where(MinutesRevision.recording_id == recording_id)
        .order_by(col(MinutesRevision.number).desc())
    ).first()


def initial_header(recording: Recording) -> dict[str, str]:
    return {
        "title": recording.title,
        "held_at": recording.held_at.isoformat() if recording.held_at else "",
        "place": recording.place,
        "attendees": recording.attendees,
    }


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

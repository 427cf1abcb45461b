"""Answers of the publication-copy routes (``api.routes.publication``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.publication import CopyState, span_counts

# The transcript's own values are passed on as they are stored (a start of 3 stays 3, not 3.0).
Number = int | float


class PreviewSegment(BaseModel):
    index: int
    speaker: str | None
    start: Number | None
    end: Number | None
    text: str


class Preview(BaseModel):
    """The masked minutes."""

    header: dict[str, Any]
    speakers: list[dict[str, Any]]
    segments: list[PreviewSegment]


class PublicationOut(BaseModel):
    recording_id: int
    revision: int  # the copy's (its ETag)
    minutes_revision: int  # the minutes' revision the copy was made from
    current_minutes_revision: int
    stale: bool  # the minutes changed since: refresh before editing or exporting
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None
    counts: dict[str, int]  # spans by status, manual ones, total
    lost: int  # decisions whose text disappeared when the copy was refreshed
    spans: list[dict[str, Any]]
    preview: Preview

    @classmethod
    def of(cls, recording_id: int, shown: CopyState) -> PublicationOut:
        copy, masked = shown.copy, shown.masked
        transcript = masked.get("transcript") or {}
        segments = [
            PreviewSegment(index=k, speaker=s.get("speaker"), start=s.get("start"), end=s.get("end"), text=s["text"])
            for k, s in enumerate(transcript.get("segments") or [])
        ]
        return cls(
            recording_id=recording_id,
            revision=copy.revision,
            minutes_revision=copy.minutes_revision,
            current_minutes_revision=shown.current_minutes_revision,
            stale=shown.stale,
            created_at=copy.created_at,
            updated_at=copy.updated_at,
            updated_by_id=copy.updated_by_id,
            counts=span_counts(copy.body),
            lost=int(copy.body.get("lost") or 0),
            spans=list(copy.body.get("spans") or []),
            preview=Preview(
                header=masked.get("header") or {},
                speakers=transcript.get("speakers") or [],
                segments=segments,
            ),
        )

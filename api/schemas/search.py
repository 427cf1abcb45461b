"""Answers of the full-text search (``api.routes.search``, ``service.search``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Match(BaseModel):
    """One utterance (or header field) holding the terms, cut to a snippet."""

    segment: int | None  # the utterance's index in the minutes; null for a header field
    field: str | None  # the header field (title, place …); null for an utterance
    start: float  # seconds: where the editor opens with the audio
    speaker: str
    text: str  # the snippet ("…" where it was cut)
    highlights: list[list[int]] = Field(description="[start, end) offsets of each match in the snippet")


class SearchItem(BaseModel):
    """A recording found; its first match's keys are repeated at the top level."""

    recording_id: int
    title: str
    kind: str
    held_at: datetime | None
    created_at: datetime
    source: str = Field(description="what was searched: transcript | minutes")
    revision: int  # the minutes' revision indexed (0: the machine transcript)
    score: float
    hits: int  # utterances holding a term
    counts: dict[str, int]  # occurrences of each term (a header's count thrice)
    segment: int | None
    field: str | None
    start: float
    speaker: str
    text: str
    highlights: list[list[int]]
    matches: list[Match]


class SearchResult(BaseModel):
    query: str
    terms: list[str]  # the query's terms, normalised
    total: int
    complete: bool  # false: too many candidates to check them all; ``total`` counts the candidates
    items: list[SearchItem]
    pending: int  # recordings not yet indexed, so not searched this time

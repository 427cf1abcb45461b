"""The transcript every part of kiroku trusts: the ``kiroku.transcript/1`` JSON schema.

Defined once here; the worker stores it, the API serves it, the editor edits it and the
exporters format it. Times are seconds from the start of the recording.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA = "kiroku.transcript/1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Word(_Strict):
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    confidence: float | None = Field(default=None, ge=0, le=1)


class Segment(_Strict):
    """One utterance: a speaker's stretch of speech between pauses or speaker changes."""

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    speaker: str = "S1"
    text: str
    words: list[Word] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.end < self.start:
            raise ValueError(f"segment ends ({self.end}) before it starts ({self.start})")
        return self


class Correction(_Strict):
    """A change the terminology dictionary made to the recogniser's text, so the editor can undo it.

    ``start``/``end`` are character offsets of ``after`` in the segment's text.
    """

    segment: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    before: str
    after: str
    term: str
    rule: str  # "alias": a known wrong form; "reading": sounded like the term; "redecode": heard again


class Flag(_Strict):
    """A place the clerk should check because the recogniser may have invented the text."""

    segment: int = Field(ge=0)  # index into Transcript.segments
    start: float = Field(ge=0)  # seconds
    end: float = Field(ge=0)
    kind: Literal["repetition", "silence", "caption"]
    text: str  # the doubtful text as recognised
    reason: str  # short Japanese explanation for the clerk, e.g. 「無音・雑音の区間に文字があります」


class StageFailure(_Strict):
    """A later stage that failed on this recording: the transcript was kept without it (speakers all
    S1, or the dictionary's corrections not made) instead of the recognition being thrown away."""

    stage: Literal["diarization", "dictionary"]
    reason: str  # Japanese, for the clerk: what happened and what can be done
    error: str = ""  # the exception's kind only (its message may quote the recording's words)


class SpeakerTurn(_Strict):
    """Who spoke when, as the diarizer found it (kept so speakers can be re-assigned later)."""

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    speaker: str


class Speaker(_Strict):
    id: str
    name: str | None = None
    # Set when the name came from a known voice (transcriber.voices), until a clerk confirms it:
    # the cosine score of the match, and the 「声で推定」 mark the editor shows.
    voice_score: float | None = None
    voice_estimated: bool | None = None


class Transcript(_Strict):
    schema_: str = Field(default=SCHEMA, alias="schema")
    duration: float = Field(ge=0)
    language: str = "ja"
    speakers: list[Speaker] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)
    turns: list[SpeakerTurn] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)  # possible hallucinations (transcriber.hallucination)
    failed_stages: list[StageFailure] = Field(default_factory=list)  # stages skipped after a failure
    model: str | None = None

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def to_json_dict(self) -> dict[str, object]:
        data = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        for optional in ("corrections", "turns", "flags", "failed_stages"):  # optional in kiroku.transcript/1
            if not data[optional]:
                del data[optional]
        return data

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)

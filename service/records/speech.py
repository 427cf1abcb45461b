"""The body of a record: the utterances as the city writes them.

One paragraph per turn (consecutive utterances of one speaker merged), named by the clerk's name for
the speaker, or 発言者A, 発言者B … in order of first speaking where nobody named them (never S1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from transcriber.transcript import Transcript

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Paragraph:
    name: str
    text: str
    start: float  # seconds: the first utterance's start

    @property
    def clock(self) -> str:
        seconds = max(0, int(self.start))
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def unnamed_label(number: int) -> str:
    """発言者A … 発言者Z, then 発言者AA …"""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = _LETTERS[rest] + letters
    return f"発言者{letters}"


def _labels(named: Mapping[str, str], speaking: Iterable[str]) -> dict[str, str]:
    """The rule: in order of first speaking, a named speaker by name, the others 発言者A, B …"""
    labels: dict[str, str] = {}
    for speaker in speaking:
        if speaker in labels:
            continue
        labels[speaker] = named.get(speaker) or unnamed_label(sum(1 for k in labels if k not in named))
    return labels


def speaker_labels(transcript: Transcript) -> dict[str, str]:
    """Each speaker id as the record names it."""
    named = {s.id: s.name.strip() for s in transcript.speakers if s.name and s.name.strip()}
    return _labels(named, (segment.speaker or "" for segment in transcript.segments))


def unnamed_labels(transcript: Mapping[str, Any]) -> dict[str, str]:
    """What the editor and the publication page call each speaker nobody named: the record's label
    (by the rule above, so 発言者B on screen is 発言者B in the Word file), from the stored
    ``kiroku.transcript/1`` JSON as it is (a long meeting's is megabytes: not validated again).

    Listed speakers who never speak (never in a record) come after, so each one still has a label."""
    listed = [s for s in transcript.get("speakers") or [] if isinstance(s, dict) and "id" in s]
    named = {str(s["id"]): str(s.get("name") or "").strip() for s in listed}
    named = {k: v for k, v in named.items() if v}
    # A segment without a speaker is S1, as ``transcriber.transcript.Segment`` reads it.
    speaking = [str(s.get("speaker", "S1") or "") for s in transcript.get("segments") or [] if isinstance(s, dict)]
    speaking += [str(s["id"]) for s in listed]
    return {k: v for k, v in _labels(named, speaking).items() if k not in named}


def speeches(transcript: Transcript) -> list[Paragraph]:
    """The record's paragraphs: one per change of speaker, empty utterances left out."""
    labels = speaker_labels(transcript)
    found: list[Paragraph] = []
    previous: str | None = None
    for segment in transcript.segments:
        text = segment.text.strip()
        if not text:
            continue
        name = labels[segment.speaker or ""]
        if found and name == previous:  # by name: two ids the clerk named alike are one person
            last = found[-1]
            found[-1] = Paragraph(last.name, last.text + text, last.start)
        else:
            found.append(Paragraph(name, text, segment.start))
        previous = name
    return found

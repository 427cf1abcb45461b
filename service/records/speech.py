"""The body of a record: the utterances as the city writes them.

One paragraph per turn (consecutive utterances of one speaker merged), named by the clerk's name for
the speaker, or 発言者A, 発言者B … in order of first speaking where nobody named them (never S1).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def speaker_labels(transcript: Transcript) -> dict[str, str]:
    """Each speaker id as the record names it."""
    named = {s.id: s.name.strip() for s in transcript.speakers if s.name and s.name.strip()}
    labels: dict[str, str] = {}
    for segment in transcript.segments:
        speaker = segment.speaker or ""
        if speaker in labels:
            continue
        labels[speaker] = named.get(speaker) or unnamed_label(sum(1 for k in labels if k not in named))
    return labels


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

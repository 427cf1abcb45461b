"""Transcript writers: kiroku JSON, plain text, SubRip (SRT) and WebVTT."""

from __future__ import annotations

import json
from collections.abc import Callable

from transcriber.transcript import Segment, Transcript

FORMATS = ("json", "txt", "srt", "vtt")


def _speaker_label(transcript: Transcript, segment: Segment) -> str:
    names = {s.id: s.name for s in transcript.speakers if s.name}
    return names.get(segment.speaker, segment.speaker)


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_json(transcript: Transcript) -> str:
    return json.dumps(transcript.to_json_dict(), ensure_ascii=False, indent=1) + "\n"


def to_txt(transcript: Transcript) -> str:
    lines = []
    for segment in transcript.segments:
        stamp = _clock(segment.start, ".")[:8]
        lines.append(f"[{stamp}] {_speaker_label(transcript, segment)}: {segment.text}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(transcript: Transcript) -> str:
    blocks = []
    for number, segment in enumerate(transcript.segments, start=1):
        timing = f"{_clock(segment.start, ',')} --> {_clock(segment.end, ',')}"
        blocks.append(f"{number}\n{timing}\n{_speaker_label(transcript, segment)}: {segment.text}\n")
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    blocks = ["WEBVTT\n"]
    for segment in transcript.segments:
        timing = f"{_clock(segment.start, '.')} --> {_clock(segment.end, '.')}"
        speaker = _speaker_label(transcript, segment).replace(">", "")
        blocks.append(f"{timing}\n<v {speaker}>{segment.text}\n")
    return "\n".join(blocks)


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "json": to_json,
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
}


def render(transcript: Transcript, fmt: str) -> str:
    return WRITERS[fmt](transcript)

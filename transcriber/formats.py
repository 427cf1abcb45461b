"""Transcript writers: kiroku JSON, plain text, SubRip (SRT) and WebVTT."""

from __future__ import annotations

import json
from collections.abc import Callable

from transcriber.transcript import Segment, Transcript

FORMATS = ("json", "txt", "srt", "vtt", "rttm")


def _speaker_label(transcript: Transcript, segment: Segment) -> str:
    names = {s.id: s.name for s in transcript.speakers if s.name}
    return names.get(segment.speaker, segment.speaker)


def clock(seconds: float, separator: str) -> str:
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
        stamp = clock(segment.start, ".")[:8]
        lines.append(f"[{stamp}] {_speaker_label(transcript, segment)}: {segment.text}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(transcript: Transcript) -> str:
    blocks = []
    for number, segment in enumerate(transcript.segments, start=1):
        timing = f"{clock(segment.start, ',')} --> {clock(segment.end, ',')}"
        blocks.append(f"{number}\n{timing}\n{_speaker_label(transcript, segment)}: {segment.text}\n")
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    blocks = ["WEBVTT\n"]
    for segment in transcript.segments:
        timing = f"{clock(segment.start, '.')} --> {clock(segment.end, '.')}"
        speaker = _speaker_label(transcript, segment).replace(">", "")
        blocks.append(f"{timing}\n<v {speaker}>{segment.text}\n")
    return "\n".join(blocks)


def to_rttm(transcript: Transcript, name: str = "recording") -> str:
    """NIST RTTM: one SPEAKER line per utterance, as diarization scoring tools read it."""
    file_id = "".join(ch if not ch.isspace() else "_" for ch in name) or "recording"
    lines = [
        f"SPEAKER {file_id} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> {s.speaker} <NA> <NA>"
        for s in transcript.segments
        if s.end > s.start
    ]
    return "\n".join(lines) + ("\n" if lines else "")


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "json": to_json,
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
    "rttm": to_rttm,
}


def render(transcript: Transcript, fmt: str, name: str = "recording") -> str:
    """The transcript in ``fmt``; ``name`` identifies the recording where a format needs it (RTTM)."""
    if fmt == "rttm":
        return to_rttm(transcript, name)
    return WRITERS[fmt](transcript)

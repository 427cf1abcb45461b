"""Exports of the minutes: the record as Word (``service.records.layout``: the city's layout per kind,
or an administrator's template) and the transcript formats of ``transcriber.formats``.

One code path for the API, the publication copy and ``kiroku export``: ``export``. Its options:
整文 (``tidy``: fillers and repeats left out, the stored minutes untouched), timestamps, and the
publication mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from service.minutes import Minutes
from service.records.fields import RECORD_TITLES
from service.records.layout import record_docx
from service.records.options import RecordOptions
from service.records.speech import speaker_labels
from service.records.tidy import tidy_transcript
from transcriber.formats import clock, render
from transcriber.transcript import Speaker, Transcript

KIND_TITLES = RECORD_TITLES
FORMATS = ("docx", "txt", "srt", "vtt", "json")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}
PUBLICATION_LINE = "【公開用】個人情報等は■で伏せています。"


@dataclass(frozen=True)
class ExportOptions:
    tidy: bool = False  # 整文: without えー、あのー and repeats
    timestamps: bool | None = None  # None: each format's habit (docx without, txt with)
    publication: bool = False  # 公開用: marked in the document


def speaker_names(minutes: Minutes) -> dict[str, str]:
    return {s.id: s.name or s.id for s in minutes.transcript.speakers}


def _txt(transcript: Transcript, timestamps: bool) -> str:
    labels = speaker_labels(transcript)
    lines = []
    for segment in transcript.segments:
        stamp = f"[{clock(segment.start, '.')[:8]}] " if timestamps else ""
        lines.append(f"{stamp}{labels.get(segment.speaker or '', segment.speaker)}: {segment.text}")
    return "\n".join(lines) + ("\n" if lines else "")


def _record_text(transcript: Transcript, tidy: bool) -> Transcript:
    """The transcript a record (docx, txt) is written from. 整文 drops utterances left empty, which
    could move who spoke first; the labels are fixed on the minutes as they are, as the editor shows
    them, so 発言者B is 発言者B in either file and on screen."""
    if not tidy:
        return transcript
    labels = speaker_labels(transcript)
    named = [Speaker(id=speaker, name=label) for speaker, label in labels.items()]
    return tidy_transcript(transcript).model_copy(update={"speakers": named})


def to_docx(minutes: Minutes, kind: str, template: Path | None = None, options: ExportOptions | None = None) -> bytes:
    options = options or ExportOptions()
    transcript = _record_text(minutes.transcript, options.tidy)
    record = RecordOptions(timestamps=bool(options.timestamps), publication=options.publication)
    return record_docx(dict(minutes.header), transcript, kind, record, template)


def export(
    minutes: Minutes,
    fmt: str,
    kind: str,
    name: str,
    template: Path | None = None,
    options: ExportOptions | None = None,
) -> bytes:
    """The minutes written as ``fmt``; masked spans (■) stay as they are in every format."""
    options = options or ExportOptions()
    if fmt == "docx":
        return to_docx(minutes, kind, template, options)
    if fmt == "txt":
        text = _txt(_record_text(minutes.transcript, options.tidy), options.timestamps is not False)
        if options.publication:
            text = f"{PUBLICATION_LINE}\n\n{text}\n{PUBLICATION_LINE}\n"
        return text.encode("utf-8")
    transcript = tidy_transcript(minutes.transcript) if options.tidy else minutes.transcript
    # The writers show the speaker names the clerk gave (S1 → 田中課長).
    return render(transcript, fmt, name=name).encode("utf-8")

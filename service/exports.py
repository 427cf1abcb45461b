"""Exports of the minutes: docx (python-docx, per-kind layout or the city's own template) and the
transcript formats of ``transcriber.formats``."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.shared import Pt

from service.minutes import HEADER_FIELDS, Minutes
from transcriber.formats import clock, render

KIND_TITLES = {"meeting": "会議録", "interview": "面談記録", "negotiation": "交渉記録", "phone": "電話対応記録"}
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}


def speaker_names(minutes: Minutes) -> dict[str, str]:
    return {s.id: s.name or s.id for s in minutes.transcript.speakers}


def to_docx(minutes: Minutes, kind: str, template: Path | None = None) -> bytes:
    """A Word document: title, header table, then 発言者: 発言 paragraphs.

    An administrator's template (its styles, letterhead, margins) is used as the base when present.
    """
    document = Document(str(template)) if template is not None and template.is_file() else Document()
    document.add_heading(KIND_TITLES.get(kind, "記録"), level=1)
    fields = [(label, minutes.header.get(key, "")) for key, label in HEADER_FIELDS.get(kind, HEADER_FIELDS["meeting"])]
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in fields:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    document.add_paragraph()
    names = speaker_names(minutes)
    for segment in minutes.transcript.segments:
        paragraph = document.add_paragraph()
        stamp = paragraph.add_run(f"[{clock(segment.start, '.')[:8]}] ")
        stamp.font.size = Pt(8)
        who = paragraph.add_run(f"{names.get(segment.speaker, segment.speaker)}：")
        who.bold = True
        paragraph.add_run(segment.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def export(minutes: Minutes, fmt: str, kind: str, name: str, template: Path | None = None) -> bytes:
    if fmt == "docx":
        return to_docx(minutes, kind, template)
    # The writers show the speaker names the clerk gave (S1 → 田中課長).
    return render(minutes.transcript, fmt, name=name).encode("utf-8")

"""The header of minutes nobody has saved yet is written as minutes write it, in Tokyo time."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document

from api.exports import to_docx
from api.minutes import Minutes, initial_header
from api.models import Recording
from transcriber.transcript import Segment, Transcript


def test_an_unsaved_minutes_export_shows_the_date_in_japanese_tokyo_time() -> None:
    # 01:00 UTC on 15 April is 10:00 the same day in Tokyo; late evening UTC is the next day there.
    morning = Recording(title="定例会議", kind="meeting", held_at=datetime(2026, 4, 15, 1, 0, tzinfo=UTC))
    evening = Recording(title="夜間会議", kind="meeting", held_at=datetime(2026, 4, 15, 23, 30, tzinfo=UTC))
    assert initial_header(morning)["held_at"] == "2026年4月15日(水) 10:00"
    assert initial_header(evening)["held_at"] == "2026年4月16日(木) 08:30"
    assert initial_header(Recording(title="日時なし", kind="meeting"))["held_at"] == ""

    transcript = Transcript(duration=2.0, segments=[Segment(start=0, end=2, text="開会します。")])
    minutes = Minutes(header=initial_header(morning), transcript=transcript)
    table = Document(io.BytesIO(to_docx(minutes, "meeting"))).tables[0]
    cells = {row.cells[0].text: row.cells[1].text for row in table.rows}
    assert cells["日時"] == "2026年4月15日(水) 10:00"

"""Minutes as stored and exported: the header's date in Tokyo time, no stale flags, nothing unmasked."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document

from service.exports import to_docx
from service.masking import masked_minutes
from service.minutes import Minutes, initial_header
from service.models import Recording
from transcriber.transcript import Segment, Transcript


def test_an_unsaved_minutes_export_shows_the_date_in_japanese_tokyo_time() -> None:
    # 01:00 UTC on 15 April is 10:00 the same day in Tokyo; late evening UTC is the next day there.
    morning = Recording(
        department_id=1, title="定例会議", kind="meeting", held_at=datetime(2026, 4, 15, 1, 0, tzinfo=UTC)
    )
    evening = Recording(
        department_id=1, title="夜間会議", kind="meeting", held_at=datetime(2026, 4, 15, 23, 30, tzinfo=UTC)
    )
    assert initial_header(morning)["held_at"] == "2026年4月15日(水) 10:00"
    assert initial_header(evening)["held_at"] == "2026年4月16日(木) 08:30"
    assert initial_header(Recording(department_id=1, title="日時なし", kind="meeting"))["held_at"] == ""

    transcript = Transcript(duration=2.0, segments=[Segment(start=0, end=2, text="開会します。")])
    minutes = Minutes(header=initial_header(morning), transcript=transcript)
    table = Document(io.BytesIO(to_docx(minutes, "meeting"))).tables[0]
    cells = {row.cells[0].text: row.cells[1].text for row in table.rows}
    assert cells["日時"] == "2026年4月15日(水) 10:00"


def _machine_transcript() -> dict[str, object]:
    return {
        "duration": 4.0,
        "segments": [
            {"start": 0, "end": 2, "text": "ご視聴ありがとうございました"},
            {"start": 2, "end": 4, "text": "電話は06-1234-5678です"},
        ],
        "corrections": [
            {"segment": 1, "start": 0, "end": 2, "before": "田話", "after": "電話", "term": "電話", "rule": "alias"}
        ],
        "flags": [
            {
                "segment": 0,
                "start": 0,
                "end": 2,
                "kind": "caption",
                "text": "ご視聴ありがとうございました",
                "reason": "定型文",
            },
            {"segment": 1, "start": 2, "end": 4, "kind": "silence", "text": "電話は06-1234-5678です", "reason": "無音"},
        ],
    }


def test_saved_minutes_do_not_keep_the_machines_flags() -> None:
    # The review walk reads flags from the machine transcript; in minutes their segment numbers go stale.
    minutes = Minutes.model_validate({"header": {}, "transcript": _machine_transcript()})
    assert minutes.transcript.flags == []
    assert len(minutes.transcript.segments) == 2


def test_a_publication_copy_carries_no_flag_or_correction_quoting_the_unmasked_text() -> None:
    copy: dict[str, list[object]] = {"candidates": [], "manual": []}
    public = masked_minutes({"header": {}, "transcript": _machine_transcript()}, copy)
    assert "flags" not in public["transcript"] and "corrections" not in public["transcript"]

"""公開用 copies, case by case: the places mutation testing (docs/mutation.md) showed no other test
would notice breaking. Each case is what a reader of the published copy sees: which characters are
■, what is left out."""

from __future__ import annotations

from service.masking import MASK, masked_minutes


def test_kept_spans_are_masked_and_rejected_ones_are_not() -> None:
    body = {
        "header": {"title": "相談記録", "attendees": "山本花子"},
        "transcript": {
            "speakers": [{"id": "S1", "name": "山本花子"}],
            "segments": [{"speaker": "S1", "text": "山本です。", "words": [{"text": "山本"}]}],
            "flags": [{"text": "山本です。"}],
            "corrections": [{"before": "山元", "after": "山本"}],
        },
    }
    copy = {
        "spans": [
            {"target": "header.attendees", "start": 0, "end": 4, "status": "proposed"},
            {"target": "speaker.S1", "start": 0, "end": 2, "status": "confirmed"},
            {"target": "segment.0", "start": 0, "end": 2, "status": "rejected"},
        ]
    }
    out = masked_minutes(body, copy)
    assert out["header"] == {"title": "相談記録", "attendees": MASK * 4}
    assert out["transcript"]["speakers"] == [{"id": "S1", "name": MASK * 2 + "花子"}]
    assert out["transcript"]["segments"] == [{"speaker": "S1", "text": "山本です。", "words": []}]
    assert "flags" not in out["transcript"] and "corrections" not in out["transcript"]

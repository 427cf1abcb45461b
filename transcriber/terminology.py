"""Applying a terminology dictionary to recognised segments, keeping word timings and an undo record."""

from __future__ import annotations

from dictionaries.correction import Corrector, Edit
from transcriber.transcript import Correction, Segment, Word


def _rewrite_words(words: list[Word], edits: list[Edit]) -> list[Word]:
    """Words whose characters an edit touched are merged into one word carrying the new text."""
    out: list[Word] = []
    offset = 0
    pending = sorted(edits, key=lambda e: e.start)
    index = 0
    while index < len(words):
        word = words[index]
        start, end = offset, offset + len(word.text)
        edit = next((e for e in pending if e.start < max(end, start + 1) and start < e.end), None)
        if edit is None:
            out.append(word)
            offset = end
            index += 1
            continue
        group = [word]
        group_end = end
        while group_end < edit.end and index + len(group) < len(words):
            group_end += len(words[index + len(group)].text)
            group.append(words[index + len(group)])
        joined = "".join(w.text for w in group)
        head, tail = joined[: edit.start - start], joined[edit.end - start :]
        confidences = [w.confidence for w in group if w.confidence is not None]
        out.append(
            Word(
                start=group[0].start,
                end=group[-1].end,
                text=head + edit.after + tail,
                confidence=min(confidences) if confidences else None,
            )
        )
        pending.remove(edit)
        offset = group_end
        index += len(group)
    return out


def apply_terms(segments: list[Segment], corrector: Corrector) -> tuple[list[Segment], list[Correction]]:
    corrected: list[Segment] = []
    records: list[Correction] = []
    for number, segment in enumerate(segments):
        text, edits = corrector.correct(segment.text)
        if not edits:
            corrected.append(segment)
            continue
        shift = 0
        for edit in edits:
            start = edit.start + shift
            records.append(
                Correction(
                    segment=number,
                    start=start,
                    end=start + len(edit.after),
                    before=edit.before,
                    after=edit.after,
                    term=edit.term,
                    rule=edit.rule,
                )
            )
            shift += len(edit.after) - (edit.end - edit.start)
        words = _rewrite_words(segment.words, edits) if segment.words else []
        corrected.append(segment.model_copy(update={"text": text, "words": words}))
    return corrected, records

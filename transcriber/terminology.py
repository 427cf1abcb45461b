"""Applying a terminology dictionary to recognised segments, keeping word timings and an undo record."""

from __future__ import annotations

from dictionaries.correction import Corrector, Edit
from transcriber.japanese_text import words_to_text
from transcriber.transcript import Correction, Segment, Word

STITCH_GAP = 0.6  # seconds: a term is cut between utterances only where one runs straight into the next
STITCH_CHARS = 12  # characters either side of a cut that may hold the cut term


def rewrite_words(words: list[Word], edits: list[Edit]) -> list[Word]:
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


def _edge(words: list[Word], from_end: bool) -> list[Word]:
    """The words at one edge of a segment holding up to STITCH_CHARS characters."""
    taken: list[Word] = []
    for word in reversed(words) if from_end else words:
        if sum(len(w.text) for w in taken) + len(word.text) > STITCH_CHARS:
            break
        taken.append(word)
    return taken[::-1] if from_end else taken


def _words_cut_off(before: Segment, after: Segment, corrector: Corrector) -> int:
    """How many of ``after``'s first words finish a term that ``before`` starts (医療保 | 助の → 医療扶助)."""
    if after.start - before.end > STITCH_GAP or not before.words or not after.words:
        return 0
    tail, head = _edge(before.words, from_end=True), _edge(after.words, from_end=False)
    cut = sum(len(w.text) for w in tail)
    _, edits = corrector.correct("".join(w.text for w in tail + head))
    crossing = [e for e in edits if e.start < cut < e.end]
    if not crossing:
        return 0
    needed, count = crossing[-1].end - cut, 0
    while needed > 0 and count < len(head):
        needed -= len(head[count].text)
        count += 1
    return count


def stitch_cut_terms(segments: list[Segment], corrector: Corrector) -> list[Segment]:
    """Move a term's cut-off end back into the utterance where it starts, so it can be corrected whole.

    Utterances are cut at pauses and speaker changes measured on word timings, which can fall inside
    a misheard term; the correction works on one utterance's text and would miss it.
    """
    out = list(segments)
    for i in range(len(out) - 1):
        count = _words_cut_off(out[i], out[i + 1], corrector)
        if not count:
            continue
        moved, kept = out[i + 1].words[:count], out[i + 1].words[count:]
        words = out[i].words + moved
        out[i] = out[i].model_copy(update={"words": words, "text": words_to_text(words), "end": moved[-1].end})
        rest = {"words": kept, "text": words_to_text(kept), "start": kept[0].start} if kept else {"text": ""}
        out[i + 1] = out[i + 1].model_copy(update=rest)
    return [s for s in out if s.text]


def apply_edits(segment: Segment, number: int, edits: list[Edit]) -> tuple[Segment, list[Correction]]:
    """The segment with ``edits`` (offsets into its text) applied to its text and words, and the
    undo records of the edits (offsets into the new text)."""
    pieces: list[str] = []
    records: list[Correction] = []
    cursor = shift = 0
    for edit in sorted(edits, key=lambda e: e.start):
        pieces += [segment.text[cursor : edit.start], edit.after]
        cursor = edit.end
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
    text = "".join(pieces) + segment.text[cursor:]
    words = rewrite_words(segment.words, edits) if segment.words else []
    return segment.model_copy(update={"text": text, "words": words}), records


def apply_terms(segments: list[Segment], corrector: Corrector) -> tuple[list[Segment], list[Correction]]:
    segments = stitch_cut_terms(segments, corrector)
    corrected: list[Segment] = []
    records: list[Correction] = []
    for number, segment in enumerate(segments):
        _, edits = corrector.correct(segment.text)
        fixed, added = apply_edits(segment, number, edits) if edits else (segment, [])
        corrected.append(fixed)
        records += added
    return corrected, records

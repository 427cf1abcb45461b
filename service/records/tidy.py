"""整文: the minutes' text without hesitations (えー、あのー、まあ) and stammered repeats (予算、予算の).

One decision for the whole product: the editor's ケバ取り表示 hides exactly the spans found here (the
page receives ``PATTERNS`` and compiles them as JavaScript regular expressions, so they are written
in the syntax both languages share), and the 整文 export removes them. The stored minutes stay
verbatim; only the exported copy is tidied.
"""

from __future__ import annotations

import re
from typing import Any

from transcriber.transcript import Transcript

# Where a phrase starts: the text's start or after punctuation, a space or a quote.
_PHRASE_START = r"(?:^|(?<=[、。,.!?！？\s「」]))"
# Long-vowel forms are fillers wherever they stand; the short ones (あの、まあ、ま、) only at the start
# of a phrase, so that 今、(いま、) or あの件 stay whole.
FILLER = (
    r"(?:えー+っと|えーと|えっと|ええと|えー+|あのー+|そのー+|うーん|んー+|あー+(?=[、,。])"
    rf"|{_PHRASE_START}(?:あの(?=[、,])|まあ(?!ま)|ま(?=[、,])))[、,]?"
)
# A word said twice at the start of a phrase (予算、予算の → 予算の): the first saying and its comma.
REPEAT = rf"{_PHRASE_START}([^、。,.!?！？\s「」0-9０-９]{{1,8}}?)、(?=\1)"
PATTERNS = {"filler": FILLER, "repeat": REPEAT}

_FILLER = re.compile(FILLER)
_REPEAT = re.compile(REPEAT)
_COMMAS = re.compile(r"[、,]{2,}")


def filler_spans(text: str) -> list[tuple[int, int]]:
    """The [start, end) spans 整文 leaves out, in order and not overlapping."""
    found = sorted(
        [m.span() for m in _FILLER.finditer(text) if m.end() > m.start()] + [m.span() for m in _REPEAT.finditer(text)]
    )
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def tidy_text(text: str) -> str:
    """The text without its fillers and repeats, its commas left tidy (no 、、 and none in front)."""
    out, position = [], 0
    for start, end in filler_spans(text):
        out.append(text[position:start])
        position = end
    out.append(text[position:])
    tidied = _COMMAS.sub("、", "".join(out)).lstrip("、, ")
    return tidied.replace("、。", "。")


def tidy_transcript(transcript: Transcript) -> Transcript:
    """A copy with every utterance tidied; word timings and dictionary corrections (their offsets no
    longer fit the text) are left out, and utterances left empty are dropped."""
    body: dict[str, Any] = transcript.model_dump(mode="json")
    segments = []
    for segment in body.get("segments") or []:
        text = tidy_text(str(segment.get("text") or ""))
        if text.strip():
            segments.append({**segment, "text": text, "words": []})
    body["segments"] = segments
    body["corrections"] = []
    body["flags"] = []
    return Transcript.model_validate(body)

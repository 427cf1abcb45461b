"""The personal-data detector: every finder over one text, overlaps merged, each candidate with its kind
and the reason shown to the clerk. ``detect_texts`` reads a transcript's utterances as one text."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dictionaries.reading import sudachi_tokenizer
from service.personal_data import names, nlp, patterns
from service.personal_data.patterns import Found
from service.personal_data.textmap import Joined

KINDS = ("name", "address", "birthdate", "phone", "email", "mynumber", "account", "id", "plate", "other")
_CHUNK = 2000  # characters per analysis: SudachiPy refuses inputs over 49,149 bytes


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    kind: str
    text: str
    reason: str = ""


def _chunks(text: str) -> list[tuple[int, str]]:
    """Pieces of at most _CHUNK characters, cut after a sentence end where there is one."""
    pieces = []
    at = 0
    while at < len(text):
        end = min(len(text), at + _CHUNK)
        if end < len(text):
            cut = max(text.rfind(p, at, end) for p in "。？！?!")
            if cut > at:
                end = cut + 1
        pieces.append((at, text[at:end]))
        at = end
    return pieces


def _tokens(text: str) -> list[names.Token]:
    tokenizer = sudachi_tokenizer("C")
    found = []
    for offset, piece in _chunks(text):
        for m in tokenizer.tokenize(piece):
            found.append(
                names.Token(m.surface(), tuple(m.part_of_speech()), offset + m.begin(), offset + m.end(), m.is_oov())
            )
    return found


_WORD = re.compile(r"[\u3041-\u3096\u30a1-\u30faー\u4e00-\u9fff々ヶ]{2,}")  # an unknown word, not a number
_WINDOW = 16  # characters of context on each side of a suspect word
_LONGEST = 400  # characters of one window at most (an unknown word can be as long as a chunk)


def _entities(text: str, tokens: Sequence[names.Token], found: Sequence[Found]) -> list[nlp.Entity]:
    """GiNZA's entities of the sentences where a name may be that no cue explained (a 人名 or unknown
    word outside the spans found so far): the rest of a one-hour transcript never goes through the
    network, which keeps detection within seconds."""
    covered = merge(found)
    starts = [f.start for f in covered]

    def inside(t: names.Token) -> bool:
        k = bisect_right(starts, t.start) - 1
        return k >= 0 and covered[k].end >= t.end

    suspects = [
        t
        for t in tokens
        if (t.person or (t.oov and _WORD.fullmatch(t.surface) is not None))
        and not inside(t)
        and not names.official(text, t.start, t.end)
    ]
    # A window of the sentence around each suspect is context enough for the recogniser.
    windows: list[list[int]] = []
    for t in suspects:
        lo, hi = max(0, t.start - _WINDOW), min(len(text), t.end + _WINDOW)
        head = max(text.rfind(p, lo, t.start) for p in "。？！?!")
        tail = [k for k in (text.find(p, t.end, hi) for p in "。？！?!") if k >= 0]
        lo, hi = (head + 1 if head >= 0 else lo), (min(tail) + 1 if tail else hi)
        hi = min(hi, lo + _LONGEST)
        if windows and lo <= windows[-1][1] and hi - windows[-1][0] <= _LONGEST:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    found_entities = []
    for (lo, _), entities in zip(windows, nlp.entities([text[lo:hi] for lo, hi in windows]), strict=True):
        found_entities += [nlp.Entity(lo + e.start, lo + e.end, e.label) for e in entities]
    return found_entities


def _given(text: str, known: Iterable[str]) -> list[Found]:
    found = []
    for name in sorted({n for n in known if len(n) >= 2}, key=len, reverse=True):
        for m in re.finditer(re.escape(name), text):
            found.append(Found(m.start(), m.end(), "name", "氏名らしい: 人名の辞書にある"))
    return found


def merge(found: Iterable[Found]) -> list[Found]:
    """Overlapping spans become one (the kind and reason of the longest)."""
    merged: list[Found] = []
    for f in sorted(found, key=lambda c: (c.start, -(c.end - c.start))):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            if f.end > last.end:
                lead = last if last.end - last.start >= f.end - f.start else f
                merged[-1] = Found(last.start, f.end, lead.kind, lead.reason)
            continue
        merged.append(f)
    return merged


def find(text: str, known_names: Iterable[str] = (), *, use_nlp: bool = True) -> list[Found]:
    """Every candidate of personal data in ``text``, merged."""
    if not text.strip():
        return []
    v = patterns.view(text)
    tokens = _tokens(text)
    found = [
        *patterns.numbers(text),
        *patterns.ids_with_letters(text, v),
        *patterns.emails(text, v),
        *patterns.postal_codes(v),
        *patterns.addresses(text, v),
        *patterns.birth_dates(text),
        *patterns.plates(text, v),
        *names.by_cues(text, tokens),
        *_given(text, known_names),
    ]
    found += names.by_analysis(text, tokens, _entities(text, tokens, found) if use_nlp else [])
    return merge(_without_cue(text, f) for f in found if f.end > f.start)


def _without_cue(text: str, found: Found) -> Found:
    """山本きよ|と言います: the analyser may take the と of the cue into the name."""
    if found.kind == "name" and found.end - found.start > 1 and text.startswith(_CUE_TO, found.end - 1):
        return Found(found.start, found.end - 1, found.kind, found.reason)
    return found


_CUE_TO = ("と申", "と言い", "といい", "と呼")


def detect(text: str, known_names: Iterable[str] = (), *, use_nlp: bool = True) -> list[Candidate]:
    return [
        Candidate(f.start, f.end, f.kind, text[f.start : f.end], f.reason)
        for f in find(text, known_names, use_nlp=use_nlp)
    ]


def detect_texts(
    texts: Sequence[str], known_names: Iterable[str] = (), *, use_nlp: bool = True
) -> list[list[Candidate]]:
    """Candidates of each text, the texts read as one (a name split over utterances is still found)."""
    joined = Joined.of(texts)
    out: list[list[Candidate]] = [[] for _ in texts]
    for f in find(joined.text, known_names, use_nlp=use_nlp):
        for index, start, end in joined.pieces(f.start, f.end):
            piece = texts[index][start:end]
            if piece.strip():
                out[index].append(Candidate(start, end, f.kind, piece, f.reason))
    return out

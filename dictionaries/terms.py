"""The terminology model: a term as the minutes must write it, with its reading and known misspellings."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def to_hiragana(text: str) -> str:
    """NFKC (half-width kana become full-width), then katakana → hiragana; ー is kept."""
    return unicodedata.normalize("NFKC", text).translate(_KATAKANA_TO_HIRAGANA)


def is_kana(text: str) -> bool:
    return bool(text) and all("\u3041" <= ch <= "\u3096" or ch in "ーゝゞ" for ch in to_hiragana(text))


@dataclass(frozen=True)
class Term:
    term: str  # the written form the minutes must show
    reading: str = ""  # hiragana; empty when the clerk did not give one
    aliases: tuple[str, ...] = field(default_factory=tuple)  # known wrong forms
    category: str = ""

    def __post_init__(self) -> None:
        if not self.term.strip():
            raise ValueError("term is empty")


_VOICED = "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゔ"
_UNVOICED = "かきくけこさしすせそたちつてとはひふへほはひふへほう"
_FOLD = str.maketrans(_VOICED, _UNVOICED)


def fold_voicing(reading: str) -> str:
    """Hiragana without voicing marks (がわ → かわ): compound words voice their second part (淀 + 川
    → よどがわ), and a kanji's own reading in a table never shows that."""
    return reading.translate(_FOLD)


_VOWELS = {
    "a": "あかさたなはまやらわがざだばぱぁゃゎ",
    "i": "いきしちにひみりぎじぢびぴぃ",
    "u": "うくすつぬふむゆるぐずづぶぷぅゅゔ",
    "e": "えけせてねへめれげぜでべぺぇ",
    "o": "おこそとのほもよろをごぞどぼぽぉょ",
}
_VOWEL_OF = {kana: vowel for vowel, row in _VOWELS.items() for kana in row}
_VOWEL_KANA = {"a": "あ", "i": "い", "u": "う", "e": "え", "o": "お"}


def fold_long_vowels(reading: str) -> str:
    """Long vowels written one way (よう, せい, センター → よお, せえ, せんたあ): speech does not tell
    おう from おお or えい from ええ, and Whisper writes whichever (はよを介護 for は要介護)."""
    out: list[str] = []
    for kana in reading:
        before = _VOWEL_OF.get(out[-1]) if out else None
        if before is not None and (kana == "ー" or (kana, before) in {("う", "o"), ("い", "e")}):
            kana = _VOWEL_KANA[before]
        out.append(kana)
    return "".join(out)


def fold_in(earlier: Term, later: Term) -> Term:
    """A repeated row of one term folded into the first: its aliases added, blanks filled."""
    aliases = tuple(dict.fromkeys((*earlier.aliases, *later.aliases)))
    return Term(earlier.term, earlier.reading or later.reading, aliases, earlier.category or later.category)


def merge_terms(terms: list[Term]) -> list[Term]:
    """One term per written form and reading, in first-seen order: a department's list and the
    city's often both hold 此花区, and two rows of one term must not look like two terms sharing a
    reading (which the corrector leaves alone)."""
    merged: dict[tuple[str, str], Term] = {}
    for term in terms:
        key = (term.term, term.reading)
        merged[key] = fold_in(merged[key], term) if key in merged else term
    return list(merged.values())

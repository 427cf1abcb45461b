"""Readings of Japanese text, from SudachiPy's morphological analysis (dictionary in a PyPI wheel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dictionaries.kanji_readings import on_readings
from dictionaries.numbers import spoken_number
from dictionaries.text import to_hiragana


@dataclass(frozen=True)
class Token:
    surface: str
    reading: str  # hiragana
    pos: str  # Sudachi's first part-of-speech level: 名詞, 助詞, 補助記号 …
    start: int  # character offsets in the analysed text
    end: int
    common: bool = False  # an ordinary word of two or more characters the dictionary knows (維持, 向上)
    unknown: bool = False  # a word the dictionary does not know (ハイコ): often sounds spelled out

    @property
    def is_number(self) -> bool:
        # A lone hiragana "numeral" (く of にしなりく) is Whisper spelling a word by sound, not a number.
        spelled = all("\u3041" <= ch <= "\u3096" for ch in self.surface)
        return any(ch.isdigit() for ch in self.surface) or (self.pos == "数詞" and not spelled)


@lru_cache(maxsize=1)
def _dictionary() -> Any:
    from sudachipy import dictionary

    return dictionary.Dictionary(dict="core")


@lru_cache(maxsize=3)
def sudachi_tokenizer(mode: str = "A") -> Any:
    """A SudachiPy tokenizer over the one loaded dictionary (about 100 MB, shared by every user), in
    split mode ``"A"`` (shortest units), ``"B"`` or ``"C"`` (named entities as one unit)."""
    from sudachipy import SplitMode

    return _dictionary().tokenizer(mode={"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}[mode])


@lru_cache(maxsize=20_000)
def other_readings(surface: str) -> tuple[str, ...]:
    """Every reading the dictionary knows for a written form (重: じゅう, おも, かさね …).

    Whisper spells an unfamiliar word with kanji chosen for their sound (十三 → 重操); the
    analyser then reads each kanji by its most common reading, often not the one Whisper meant.
    """
    readings = {to_hiragana(m.reading_form()) for m in _dictionary().lookup(surface)}
    return tuple(sorted(r for r in readings if r))


def tokenize(text: str) -> list[Token]:
    """Short-unit morphemes (Sudachi mode A), each with its reading in hiragana."""
    tokens = []
    # Mode A (shortest units) so a misheard name is not hidden inside a longer compound.
    for morpheme in sudachi_tokenizer("A").tokenize(text):
        pos = morpheme.part_of_speech()
        reading = morpheme.reading_form()
        surface = morpheme.surface()
        # Sudachi leaves unknown words' reading as their surface: kana stays kana, anything else has
        # none; and it reads digits one by one.
        spoken = spoken_number(surface) if pos[1] == "数詞" else None
        tokens.append(
            Token(
                surface=surface,
                reading=spoken or to_hiragana(reading if reading else surface),
                pos="数詞" if pos[1] == "数詞" else pos[0],
                start=morpheme.begin(),
                end=morpheme.end(),
                common=len(surface) > 1 and pos[1] == "普通名詞" and not morpheme.is_oov(),
                unknown=morpheme.is_oov(),
            )
        )
    return tokens


def reading_of(text: str) -> str:
    """The reading of a written form, in hiragana (used when a dictionary row has none)."""
    return "".join(t.reading for t in tokenize(text) if t.pos != "補助記号")


MAX_COMPOSED_KANJI = 3
MAX_COMPOSED_READINGS = 24


def composed_readings(
    surface: str, per_kanji: Callable[[str], tuple[str, ...]], unknown: str | None, limit: int
) -> list[str]:
    """``surface`` read character by character: kana as themselves, each kanji every way
    ``per_kanji`` gives; a kanji without readings or another character becomes ``unknown``, or
    leaves nothing to compose ([]) when that is None. At most ``limit`` readings."""
    composed = [""]
    for ch in surface:
        if "\u3041" <= ch <= "\u30fa" or ch == "ー":
            options: tuple[str, ...] = (to_hiragana(ch),)
        else:
            options = per_kanji(ch) if "\u4e00" <= ch <= "\u9fff" else ()
            options = options or ((unknown,) if unknown is not None else ())
        if not options:
            return []
        composed = [a + b for a in composed for b in options][:limit]
    return composed


def any_reading(kanji: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*other_readings(kanji), *on_readings(kanji))))


@lru_cache(maxsize=20_000)
def token_readings(surface: str) -> tuple[str, ...]:
    """Readings a short written form may have been meant with: the dictionary's for the whole, and
    its kanji's readings put together one by one, on-readings included (重操 → じゅうそう).

    Kana stand for themselves; longer forms and other characters get the dictionary's readings only.
    """
    whole = other_readings(surface)
    if not 0 < len(surface) <= MAX_COMPOSED_KANJI:
        return whole
    return tuple(dict.fromkeys((*whole, *composed_readings(surface, any_reading, None, MAX_COMPOSED_READINGS))))

"""Readings of Japanese text, from SudachiPy's morphological analysis (dictionary in a PyPI wheel)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dictionaries.terms import to_hiragana


@dataclass(frozen=True)
class Token:
    surface: str
    reading: str  # hiragana
    pos: str  # Sudachi's first part-of-speech level: 名詞, 助詞, 補助記号 …
    start: int  # character offsets in the analysed text
    end: int

    @property
    def is_number(self) -> bool:
        return any(ch.isdigit() for ch in self.surface) or self.pos == "数詞"


@lru_cache(maxsize=1)
def _dictionary() -> Any:
    from sudachipy import dictionary

    return dictionary.Dictionary(dict="core")


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import SplitMode

    # Mode A (shortest units) so a misheard name is not hidden inside a longer compound.
    return _dictionary().tokenizer(mode=SplitMode.A)


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
    for morpheme in _tokenizer().tokenize(text):
        pos = morpheme.part_of_speech()
        reading = morpheme.reading_form()
        surface = morpheme.surface()
        # Sudachi leaves unknown words' reading as their surface: kana stays kana, anything else has none.
        tokens.append(
            Token(
                surface=surface,
                reading=to_hiragana(reading if reading else surface),
                pos="数詞" if pos[1] == "数詞" else pos[0],
                start=morpheme.begin(),
                end=morpheme.end(),
            )
        )
    return tokens


def reading_of(text: str) -> str:
    """The reading of a written form, in hiragana (used when a dictionary row has none)."""
    return "".join(t.reading for t in tokenize(text) if t.pos != "補助記号")

"""Thresholds and token tests shared by several correction passes."""

from __future__ import annotations

import re

from dictionaries.reading import Token
from dictionaries.text import HIRAGANA, KANJI, KATAKANA

MIN_READING = 3  # shorter readings (き, たつ) match too many ordinary words
MIN_NEAR_READING = 6  # 5-kana words one sound apart are often both real words (重要・十三, 市役所・区役所)
MIN_REREAD_READING = 5  # re-read kanji or a voicing difference: 4 kana are too easily met (上、次 → 東海林)
MAX_SPAN_TOKENS = 6

KANJI_CHAR = re.compile(f"[{KANJI}々]")
HIRAGANA_CHAR = re.compile(f"[{HIRAGANA}ー]")
KANA_CHAR = re.compile(f"[{HIRAGANA}{KATAKANA}]")
NEVER_AT_EDGE = {"動詞", "助動詞", "形容詞", "補助記号", "空白"}
NEVER_INSIDE = {"補助記号", "空白"}


def allowed_distance(length: int) -> int:
    """Sounds a reading of ``length`` kana may be off by."""
    if length < MIN_NEAR_READING:
        return 0
    return 1 if length < 9 else 2


def after_number(tokens: list[Token], i: int) -> bool:
    """A word right after a number is its counter or unit (2025年, 3人): never the start of a misheard term."""
    return i > 0 and tokens[i - 1].is_number

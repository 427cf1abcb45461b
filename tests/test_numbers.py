"""Digits read as they are spoken, so a name Whisper wrote with digits can still be compared by sound."""

from __future__ import annotations

import pytest

from dictionaries.numbers import spoken_number
from dictionaries.reading import tokenize


@pytest.mark.parametrize(
    "written,spoken",
    [
        ("13", "じゅうさん"),
        ("1000", "せん"),
        ("1,000", "せん"),
        ("１３", "じゅうさん"),  # full-width, as an IME writes them
        ("300", "さんびゃく"),
        ("600", "ろっぴゃく"),
        ("800", "はっぴゃく"),
        ("3000", "さんぜん"),
        ("8000", "はっせん"),
        ("2025", "にせんにじゅうご"),
        ("111", "ひゃくじゅういち"),
        ("10000", "いちまん"),
        ("10000000", "いっせんまん"),
        ("3億4,500万", "さんおくよんせんごひゃくまん"),
        ("1000000000000", "いっちょう"),
        ("0", "ぜろ"),
        ("0.5", "れいてんご"),
        ("1.25", "いちてんにご"),
        ("090", "れいきゅうれい"),  # a code or a telephone number: digit by digit
    ],
)
def test_numbers_are_read_as_spoken(written: str, spoken: str) -> None:
    assert spoken_number(written) == spoken


@pytest.mark.parametrize("text", ["abc", "", "1-2", "三", "1億円"])
def test_anything_else_is_not_a_number(text: str) -> None:
    assert spoken_number(text) is None


def test_the_analyser_gives_digits_their_spoken_reading() -> None:
    tokens = tokenize("何は数字1000の延伸")
    assert [t.reading for t in tokens if t.surface == "1000"] == ["せん"]
    assert all(t.is_number for t in tokens if t.surface == "1000")

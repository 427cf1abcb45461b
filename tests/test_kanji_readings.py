"""The on-reading table behind re-reading kanji chosen for their sound."""

from __future__ import annotations

import pytest

from dictionaries.kanji_readings import on_readings, romaji_to_hiragana


@pytest.mark.parametrize(
    "romaji,kana",
    [("SHOU", "しょう"), ("JUU", "じゅう"), ("TSUI", "つい"), ("KYAKU", "きゃく"), ("SEN", "せん"), ("QA", None)],
)
def test_unihan_romaji_becomes_hiragana(romaji: str, kana: str | None) -> None:
    assert romaji_to_hiragana(romaji) == kana


@pytest.mark.parametrize(
    "kanji,expected",
    [("操", "そう"), ("淀", "でん"), ("花", "か"), ("区", "く"), ("生", "せい"), ("随", "ずい")],
)
def test_common_kanji_have_their_on_readings(kanji: str, expected: str) -> None:
    assert expected in on_readings(kanji)


def test_unknown_characters_have_none() -> None:
    assert on_readings("a") == ()
    assert on_readings("讼") == ()  # a simplified Chinese form, outside the Japanese sets

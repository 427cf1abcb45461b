"""Pure helpers for Japanese text, shared by the dictionaries, the transcriber and the service.

Character classes, kana folding (katakana as hiragana, voicing marks and long vowels folded away) and
the characters no stored text may hold. Nothing here knows about terms, morphemes or records.
"""

from __future__ import annotations

import re
import unicodedata

# Character ranges, for use inside a regular expression's [...]
HIRAGANA = "\u3041-\u3096"  # ぁ … ゖ
KATAKANA = "\u30a1-\u30fa"  # ァ … ヺ
KANJI = "\u4e00-\u9fff"  # the CJK unified ideographs

KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}  # ァ … ヶ → ぁ … ゖ

# Characters no stored text may hold: C0 controls other than tab and line breaks, DEL, lone surrogates
# and non-characters. PostgreSQL refuses NUL, Word documents refuse them all, UTF-8 cannot encode
# surrogates.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def katakana_to_hiragana(text: str) -> str:
    """Katakana as hiragana, every other character as it is (ー is kept)."""
    return text.translate(KATAKANA_TO_HIRAGANA)


def to_hiragana(text: str) -> str:
    """NFKC (half-width kana become full-width), then katakana → hiragana; ー is kept."""
    return katakana_to_hiragana(unicodedata.normalize("NFKC", text))


def is_kana(text: str) -> bool:
    return bool(text) and all("\u3041" <= ch <= "\u3096" or ch in "ーゝゞ" for ch in to_hiragana(text))


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

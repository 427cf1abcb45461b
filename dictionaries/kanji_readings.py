"""Sino-Japanese (音読み) readings of single kanji, from the Unicode Han database (Unihan).

Whisper spells a name it does not know with kanji chosen for their sound: 十三 (じゅうそう) comes out
as 重操. The morphological analyser reads 操 only as a word of its own (みさお), so the sound
Whisper meant is lost. Unihan's ``kJapaneseOn`` field gives each kanji's on-readings; the table in
``data/kanji_on_readings.tsv`` holds them for the kanji of JIS X 0208, 常用 and 人名用 (about 6,400),
in hiragana. Unihan is © Unicode, Inc., under the Unicode License (notice in ``data/NOTICE``).

Rebuild the table from Debian's ``unicode-data`` package::

    python -m dictionaries.kanji_readings /usr/share/unicode/Unihan_Readings.txt.bz2 \
        /usr/share/unicode/Unihan_OtherMappings.txt.bz2
"""

from __future__ import annotations

import bz2
import re
import sys
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "kanji_on_readings.tsv"

# Hepburn as Unihan writes it (upper case, long vowels as OU/UU), longest spelling first.
_SYLLABLES = {
    "A": "あ",
    "I": "い",
    "U": "う",
    "E": "え",
    "O": "お",
    "N": "ん",
    "KA": "か",
    "KI": "き",
    "KU": "く",
    "KE": "け",
    "KO": "こ",
    "KYA": "きゃ",
    "KYU": "きゅ",
    "KYO": "きょ",
    "GA": "が",
    "GI": "ぎ",
    "GU": "ぐ",
    "GE": "げ",
    "GO": "ご",
    "GYA": "ぎゃ",
    "GYU": "ぎゅ",
    "GYO": "ぎょ",
    "SA": "さ",
    "SHI": "し",
    "SU": "す",
    "SE": "せ",
    "SO": "そ",
    "SHA": "しゃ",
    "SHU": "しゅ",
    "SHO": "しょ",
    "ZA": "ざ",
    "JI": "じ",
    "ZU": "ず",
    "ZE": "ぜ",
    "ZO": "ぞ",
    "JA": "じゃ",
    "JU": "じゅ",
    "JO": "じょ",
    "TA": "た",
    "CHI": "ち",
    "TSU": "つ",
    "TE": "て",
    "TO": "と",
    "CHA": "ちゃ",
    "CHU": "ちゅ",
    "CHO": "ちょ",
    "DA": "だ",
    "DE": "で",
    "DO": "ど",
    "NA": "な",
    "NI": "に",
    "NU": "ぬ",
    "NE": "ね",
    "NO": "の",
    "NYA": "にゃ",
    "NYU": "にゅ",
    "NYO": "にょ",
    "HA": "は",
    "HI": "ひ",
    "FU": "ふ",
    "HE": "へ",
    "HO": "ほ",
    "HYA": "ひゃ",
    "HYU": "ひゅ",
    "HYO": "ひょ",
    "BA": "ば",
    "BI": "び",
    "BU": "ぶ",
    "BE": "べ",
    "BO": "ぼ",
    "BYA": "びゃ",
    "BYU": "びゅ",
    "BYO": "びょ",
    "PA": "ぱ",
    "PI": "ぴ",
    "PU": "ぷ",
    "PE": "ぺ",
    "PO": "ぽ",
    "PYO": "ぴょ",
    "MA": "ま",
    "MI": "み",
    "MU": "む",
    "ME": "め",
    "MO": "も",
    "MYA": "みゃ",
    "MYU": "みゅ",
    "MYO": "みょ",
    "YA": "や",
    "YU": "ゆ",
    "YO": "よ",
    "RA": "ら",
    "RI": "り",
    "RU": "る",
    "RE": "れ",
    "RO": "ろ",
    "RYA": "りゃ",
    "RYU": "りゅ",
    "RYO": "りょ",
    "WA": "わ",
}
# Historical kana spellings Unihan also lists (KAU for こう, KUWA for か, EHU for えふ): not heard today.
_HISTORICAL = re.compile(r"(AU|EU|IU|HU)$|UWA|[AEIOU]HU|[JHN]IY[OU]|CHY")


def romaji_to_hiragana(romaji: str) -> str | None:
    """``SHOU`` → しょう; None for a spelling this table does not cover."""
    out, i = [], 0
    while i < len(romaji):
        for size in (3, 2, 1):
            kana = _SYLLABLES.get(romaji[i : i + size])
            if kana is not None:
                out.append(kana)
                i += size
                break
        else:
            return None
    return "".join(out)


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        kanji, _, readings = line.partition("\t")
        table[kanji] = tuple(readings.split())
    return table


def on_readings(kanji: str) -> tuple[str, ...]:
    """The on-readings of one kanji in hiragana (操 → そう), or () when unknown."""
    return _table().get(kanji, ())


def _unihan_fields(path: Path, fields: set[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with bz2.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[1] in fields:
                out.setdefault(chr(int(parts[0][2:], 16)), {})[parts[1]] = parts[2]
    return out


def build_table(readings_bz2: Path, mappings_bz2: Path) -> str:
    """The TSV text: kanji of JIS X 0208, 常用 or 人名用 with their modern on-readings."""
    wanted = set(_unihan_fields(mappings_bz2, {"kJis0", "kJoyoKanji", "kJinmeiyoKanji"}))
    rows = []
    for kanji, fields in sorted(_unihan_fields(readings_bz2, {"kJapaneseOn"}).items()):
        if kanji not in wanted:
            continue
        kana = [romaji_to_hiragana(r) for r in fields["kJapaneseOn"].split() if not _HISTORICAL.search(r)]
        readings = sorted({k for k in kana if k})
        if readings:
            rows.append(f"{kanji}\t{' '.join(readings)}\n")
    return "".join(rows)


if __name__ == "__main__":
    TABLE.write_text(build_table(Path(sys.argv[1]), Path(sys.argv[2])), encoding="utf-8")
    print(f"wrote {TABLE}")

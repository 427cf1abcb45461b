"""Digits as citizens say them: 06-6208-7111, ０６, 〇六, ゼロロクのろくにいぜろはち, 090の1234の5678.

``digit_runs`` finds runs of digits in any of these spellings with the separators spoken or written
between groups (の, -, ー, spaces, ハイフン); each run keeps its span in the text as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KANA_DIGITS = {
    "ぜろ": "0", "れい": "0", "まる": "0", "いち": "1", "に": "2", "にい": "2", "さん": "3", "よん": "4",
    "し": "4", "ご": "5", "ごお": "5", "ごー": "5", "ろく": "6", "なな": "7", "しち": "7", "はち": "8",
    "きゅう": "9", "きゅー": "9", "く": "9", "にー": "2",
}  # fmt: skip
# Kana that are ordinary words or particles too (に, し, く, ご, さん): trusted only between other digits.
_AMBIGUOUS = {"に", "し", "く", "ご", "さん", "いち", "まる"}
_KANJI_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}
_SEPARATORS = ("ハイフン", "はいふん", "の", "ノ", "-", "ー", "－", "−", "‐", "—", "―", " ", "\u3000", "、", "・",
               "(", ")", "（", "）", ".")  # fmt: skip


def _hira(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


@dataclass(frozen=True)
class DigitRun:
    start: int
    end: int
    digits: str
    groups: tuple[int, ...]  # digits per group, as separated when said or written
    spoken: bool  # some digits were kana

    def __len__(self) -> int:
        return len(self.digits)


_KANA_KEYS = sorted(_KANA_DIGITS, key=len, reverse=True)


def _digit_at(text: str, hira: str, i: int) -> tuple[str, int, bool, bool] | None:
    """(digit, length, spoken, ambiguous) of a digit starting at ``i``."""
    c = text[i]
    if "0" <= c <= "9":
        return c, 1, False, False
    if "０" <= c <= "９":
        return str(ord(c) - ord("０")), 1, False, False
    if c in _KANJI_DIGITS:
        return _KANJI_DIGITS[c], 1, False, False
    for key in _KANA_KEYS:
        if hira.startswith(key, i):
            return _KANA_DIGITS[key], len(key), True, key in _AMBIGUOUS
    return None


def _separator_at(text: str, i: int) -> int:
    for sep in _SEPARATORS:
        if text.startswith(sep, i):
            return len(sep)
    return 0


_LENGTHS = (10, 11, 12)  # phone and individual numbers
_PARTICLES = "はがをもで、。，,：: \u3000"


def _joined_before(text: str, i: int) -> bool:
    return i > 0 and text[i - 1] not in _PARTICLES and not text[i - 1].isdigit()


def _joined_after(text: str, i: int) -> bool:
    return (
        i < len(text)
        and text[i] not in "、。，,．.？?！! \u3000"
        and not text.startswith(("です", "で、", "でござ"), i)
    )


def digit_runs(text: str, minimum: int = 4) -> list[DigitRun]:
    """Runs of at least ``minimum`` digits; a run ends at anything that is neither a digit nor one separator."""
    hira = _hira(text)
    runs: list[DigitRun] = []
    i = 0
    while i < len(text):
        first = _digit_at(text, hira, i)
        if first is None:
            i += 1
            continue
        tokens: list[tuple[int, int, str, bool, bool]] = []  # start, end, digit, spoken, ambiguous
        groups: list[int] = [0]
        j = i
        while j < len(text):
            found = _digit_at(text, hira, j)
            if found is None:
                skip = 0
                for _ in range(3):  # 090 の 1234: a separator said with spaces around it
                    more = _separator_at(text, j + skip)
                    if not more:
                        break
                    skip += more
                after = _digit_at(text, hira, j + skip) if skip and j + skip < len(text) else None
                if not skip or after is None or not tokens:
                    break
                groups.append(0)
                j += skip
                continue
            digit, length, spoken, ambiguous = found
            tokens.append((j, j + length, digit, spoken, ambiguous))
            groups[-1] += 1
            j += length
        # An ambiguous kana at an edge is a word (山本さん, …に電話), not a digit: at the start when a word
        # runs into it, at the end when one follows it.
        while tokens and tokens[0][4] and _joined_before(text, tokens[0][0]):
            tokens.pop(0)
            groups[0] -= 1
            if groups[0] <= 0:
                groups.pop(0)
        kept = (list(tokens), list(groups))
        while tokens and tokens[-1][4] and _joined_after(text, tokens[-1][1]):
            tokens.pop()
            groups[-1] -= 1
            if groups and groups[-1] <= 0:
                groups.pop()
        if len(tokens) not in _LENGTHS and len(kept[0]) in _LENGTHS:
            tokens, groups = kept  # ごいちごに: the last に is the last digit of a phone number
        if len(tokens) >= minimum:
            runs.append(
                DigitRun(
                    tokens[0][0],
                    tokens[-1][1],
                    "".join(t[2] for t in tokens),
                    tuple(g for g in groups if g > 0),
                    any(t[3] for t in tokens),
                )
            )
        i = max(j, i + 1)
    return runs


_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十百千]+")


def kanji_number(text: str) -> int | None:
    """三十八 → 38, 十二 → 12, 二〇二五 → 2025, 元 → 1; digits as they are; None when not a number."""
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text == "元":
        return 1
    if text.isdigit():
        return int(text)
    if not _KANJI_NUMBER.fullmatch(text):
        return None
    if not any(c in "十百千" for c in text):
        return int("".join(_KANJI_DIGITS[c] for c in text))
    total = current = 0
    for c in text:
        if c in _KANJI_DIGITS:
            current = int(_KANJI_DIGITS[c])
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[c]
            total += (current or 1) * unit
            current = 0
    return total + current

"""Numbers written in digits, read as they are spoken (1000 → せん, 300 → さんびゃく).

The analyser reads digits one by one (1000 → いちれいれいれい), which is right for telephone
numbers but not for what was said. Whisper writes digits where it heard a number-like sound, also
inside names (何は数字1000 for なにわ筋線: "…すうじせん"), so comparing by sound needs the spoken form.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = ("", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう")
_GROUPS = ("", "まん", "おく", "ちょう")  # every 4 digits
# Sound changes where a digit meets a unit (さんびゃく, はっせん, いっちょう); 1 before 十百千 is silent.
_HUNDREDS = {1: "ひゃく", 3: "さんびゃく", 6: "ろっぴゃく", 8: "はっぴゃく"}
_THOUSANDS = {1: "せん", 3: "さんぜん", 8: "はっせん"}
_TENS = {1: "じゅう"}
_ONE_GROUP = {"ちょう": "いっちょう"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WITH_UNITS = re.compile(r"(?:\d{1,4}[兆億万])+\d{0,4}")  # 3億4500万
_UNIT_VALUES = {"万": 10**4, "億": 10**8, "兆": 10**12}
_DIGIT_BY_DIGIT = ("れい", *_DIGITS[1:])
LONGEST = 16  # digits: beyond 兆 a number is a code, read digit by digit


def _below_10000(value: int) -> str:
    thousands, hundreds, tens, ones = value // 1000, value // 100 % 10, value // 10 % 10, value % 10
    return "".join(
        (
            _THOUSANDS.get(thousands, _DIGITS[thousands] + "せん") if thousands else "",
            _HUNDREDS.get(hundreds, _DIGITS[hundreds] + "ひゃく") if hundreds else "",
            _TENS.get(tens, _DIGITS[tens] + "じゅう") if tens else "",
            _DIGITS[ones],
        )
    )


def _integer(digits: str) -> str:
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > LONGEST:
        return _digit_by_digit(digits)  # a code or a telephone number
    value = int(digits)
    if value == 0:
        return "ぜろ"
    parts = []
    for index in reversed(range(len(_GROUPS))):
        group = value // 10 ** (4 * index) % 10_000
        if not group:
            continue
        unit = _GROUPS[index]
        if group == 1 and unit in _ONE_GROUP:
            parts.append(_ONE_GROUP[unit])
        elif group % 1000 == 0 and group // 1000 == 1 and unit:
            parts.append("いっせん" + unit)  # 1000万: いっせんまん
        else:
            parts.append(_below_10000(group) + unit)
    return "".join(parts)


def _digit_by_digit(digits: str) -> str:
    return "".join(_DIGIT_BY_DIGIT[int(d)] for d in digits)


def spoken_number(surface: str) -> str | None:
    """The spoken reading of a number written in digits (commas and full-width digits allowed, and
    a decimal part read digit by digit); None if ``surface`` is anything else."""
    text = unicodedata.normalize("NFKC", surface).replace(",", "")
    if _WITH_UNITS.fullmatch(text):
        value = sum(int(digits) * _UNIT_VALUES[unit] for digits, unit in re.findall(r"(\d+)([兆億万])", text))
        return _integer(str(value + int(re.sub(r".*[兆億万]", "", text) or 0)))
    if not _NUMBER.fullmatch(text):
        return None
    whole, _, fraction = text.partition(".")
    if not fraction:
        return _integer(whole)
    return ("れい" if whole == "0" else _integer(whole)) + "てん" + _digit_by_digit(fraction)

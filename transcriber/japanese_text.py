"""Making recogniser output read as Japanese minutes: spacing, captions, repetition loops."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from transcriber.transcript import Word

# Whisper was trained on subtitled video; over silence or noise it invents these closing captions.
_CAPTION_PATTERNS = [
    re.compile(p)
    for p in (
        r"ご?視聴(いただき)?(ありがとう|有難う)",
        r"チャンネル登録",
        r"高評価",
        r"字幕(作成|提供|by)",
        r"次回の?動画",
        r"おやすみなさい$",
        r"^(どうも)?ありがとうございました$",
        r"(この動画|ご覧いただき)",
    )
]
_SPACE_NEAR_JAPANESE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_PUNCT = re.compile(r"[\s、。,.!?！？・「」『』()（）…ー-]")


def tidy_spacing(text: str) -> str:
    """Remove spaces Whisper puts between Japanese words; keep those between Latin words."""
    return _SPACE_NEAR_JAPANESE.sub("", text.strip())


def is_caption(text: str) -> bool:
    core = _PUNCT.sub("", unicodedata.normalize("NFKC", text))
    return bool(core) and any(p.search(core) for p in _CAPTION_PATTERNS) and len(core) <= 30


def word_loops_at(texts: Sequence[str], is_loop: Callable[[str, int], bool]) -> list[tuple[int, int, int]]:
    """Runs where the same 1–12 words repeat back to back, left to right: (first word, words in
    the phrase, repeats). ``is_loop(phrase, repeats)`` decides which repetitions count."""
    runs: list[tuple[int, int, int]] = []
    i = 0
    while i < len(texts):
        step = 1
        for size in range(1, 13):
            unit = list(texts[i : i + size])
            if len(unit) < size:
                break
            repeats = 1
            while list(texts[i + repeats * size : i + (repeats + 1) * size]) == unit:
                repeats += 1
            if is_loop("".join(unit), repeats):
                runs.append((i, size, repeats))
                step = repeats * size
                break
        i += step
    return runs


def collapse_repeated_words(words: list[Word], min_repeats: int = 3) -> list[Word]:
    """Keep one copy of a phrase the decoder looped on (the same 1–12 words, 3+ times in a row).

    Short real repetitions (はい、はい) stay: a run must repeat at least ``min_repeats`` times and
    span at least 6 characters in total before it is treated as a loop.
    """
    runs = word_loops_at(
        [w.text.strip() for w in words], lambda unit, repeats: repeats >= min_repeats and len(unit) * repeats >= 6
    )
    out: list[Word] = []
    i = 0
    for first, size, repeats in runs:
        out += words[i : first + size]
        i = first + size * repeats
    return out + words[i:]


def tidy_words(words: list[Word]) -> list[Word]:
    """Word texts without Whisper's leading spaces, except the one between two Latin words."""
    out: list[Word] = []
    for word in words:
        text = word.text.strip()
        if out and word.text[:1].isspace() and out[-1].text[-1:].isascii() and text[:1].isascii():
            text = " " + text
        out.append(word.model_copy(update={"text": text}))
    return out


def words_to_text(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()

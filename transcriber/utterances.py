"""Cutting a clip's timed words into utterances at pauses and sentence ends.

Each clip is decoded in one pass, so its words arrive as one run; minutes, subtitles and the
editor want one line per utterance.
"""

from __future__ import annotations

from dataclasses import dataclass

from transcriber.transcript import Word

_SENTENCE_END = ("。", "？", "！", "?", "!")


@dataclass(frozen=True)
class UtteranceRules:
    pause: float = 1.0  # a silence this long always ends an utterance
    sentence_pause: float = 0.25  # after 。 a shorter silence is enough
    max_length: float = 20.0  # subtitles and the editor need lines a person can read


def split_utterances(words: list[Word], rules: UtteranceRules | None = None) -> list[list[Word]]:
    rules = rules or UtteranceRules()
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current:
            gap = word.start - current[-1].end
            ends_sentence = current[-1].text.rstrip().endswith(_SENTENCE_END)
            too_long = word.end - current[0].start > rules.max_length and ends_sentence
            if gap >= rules.pause or (ends_sentence and gap >= rules.sentence_pause) or too_long:
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups

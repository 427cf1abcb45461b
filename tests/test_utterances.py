"""Utterances end at pauses and at sentence ends, never mid-sentence without a pause."""

from __future__ import annotations

from transcriber.transcript import Word
from transcriber.utterances import split_utterances


def _w(start: float, end: float, text: str) -> Word:
    return Word(start=start, end=end, text=text)


def test_long_pause_and_sentence_end_split() -> None:
    words = [
        _w(0.0, 0.5, "本日は"),
        _w(0.5, 1.0, "晴れです。"),
        _w(1.4, 1.8, "では"),
        _w(1.8, 2.4, "始めます"),
        _w(4.0, 4.5, "はい。"),
    ]
    groups = split_utterances(words)
    assert [[w.text for w in g] for g in groups] == [["本日は", "晴れです。"], ["では", "始めます"], ["はい。"]]


def test_a_sentence_running_on_without_pause_stays_whole() -> None:
    words = [_w(0.0, 0.4, "それでは。"), _w(0.45, 0.9, "議題に"), _w(0.9, 1.3, "入ります。")]
    assert len(split_utterances(words)) == 1


def test_no_words_no_utterances() -> None:
    assert split_utterances([]) == []

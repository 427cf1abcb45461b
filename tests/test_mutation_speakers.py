"""Speakers on words, case by case: the places mutation testing (docs/mutation.md) showed no other
test would notice breaking. Each case is what the minutes show: who said which words, where an
utterance starts and ends."""

from __future__ import annotations

from transcriber.speakers import is_backchannel


def test_backchannels_with_lengthening_or_repeats_are_a_listeners_line() -> None:
    for text in ("はい", "はいはい", "うんうん", "ええー", "そうですね。", "なるほど"):
        assert is_backchannel(text), text
    for text in ("", "。", "はいけい", "予算", "はいう"):
        assert not is_backchannel(text), text

"""Flags on invented text, case by case: the places mutation testing (docs/mutation.md) showed no
other test would notice breaking. Each case is what the clerk sees in review mode: a flag, its
kind and its reason, or no flag on real speech. Boundaries are tested on both sides where the
threshold's comment in ``Rules`` says which side counts."""

from __future__ import annotations

import pytest

from tests.test_hallucination import _decoded, _segment
from transcriber.asr import RecognizedSegment
from transcriber.hallucination import (
    REASON_CAPTION,
    REASON_DOUBT,
    REASON_DUPLICATE,
    REASON_LOOP,
    REASON_LOOP_CUT,
    REASON_SILENCE,
    Rules,
    find_flags,
    gather_evidence,
    repoint_flags,
)
from transcriber.transcript import Flag, Segment, Word
from transcriber.vad import Span

SPEECH = [Span(0.0, 10.0), Span(40.0, 50.0)]  # a voice for 10 s, 30 s of silence, a voice again


def _flags(segments: list[Segment], speech: list[Span] = SPEECH, **window: float) -> list[tuple[int, str, str]]:
    """(segment, kind, reason) of the flags, each segment decoded as its own recogniser segment."""
    flags = find_flags(segments, speech, [_decoded(s, **window) for s in segments])
    return [(f.segment, f.kind, f.reason) for f in flags]


def test_closing_thanks_is_a_caption_over_silence_and_speech_where_spoken() -> None:
    spoken = _segment("ありがとうございました。", 1.0, 2.5)
    unspoken = _segment("ありがとうございました。", 20.0, 21.5)
    assert _flags([spoken, unspoken]) == [(1, "caption", REASON_CAPTION)]


# --- where a voice was heard ------------------------------------------------------------------


def test_a_sentence_spoken_with_short_pauses_is_not_text_over_silence() -> None:
    # The speech detector hears a voice in bursts with pauses under its reach between them.
    bursts = [Span(0.6 * k, 0.6 * k + 0.25) for k in range(5)]
    sentence = _segment("それでは会議を始めます。", 0.0, 3.0)
    assert _flags([sentence], bursts) == []


def test_speech_a_moment_off_the_word_timings_still_counts() -> None:
    # Word timings are ±0.2 s: a voice heard from 1.15 to 1.55 s is under a segment of 1.0–2.0 s.
    segment = _segment("承知しました。", 1.0, 2.0)
    assert _flags([segment], [Span(1.15, 1.55)]) == []


def test_a_sentence_just_after_the_voice_stopped_is_text_over_silence() -> None:
    # Its start is still in the speech detector's reach, but most of it is not.
    segment = _segment("次回は来月です。", 10.1, 10.9)
    assert _flags([segment]) == [(0, "silence", REASON_SILENCE)]


def test_a_segment_of_an_instant_is_spoken_where_the_voice_is_up_to_its_edges() -> None:
    speech = [Span(5.2, 9.8)]  # heard from 5.0 to 10.0 with the reach of the word timings
    texts = ("はい、そうです。", "そのとおりです。", "賛成します。", "反対します。")
    inside, first, last, outside = (_segment(x, t, t) for x, t in zip(texts, (7.0, 5.0, 10.0, 25.0), strict=True))
    assert _flags([inside, first, last, outside], speech) == [(3, "silence", REASON_SILENCE)]


def test_a_segment_of_one_millisecond_is_judged_by_its_time_not_as_an_instant() -> None:
    # An instant is shorter than 1 ms; this one is not, and a voice starts inside it.
    segment = _segment("はい、そうです。", 0.0, 0.001)
    assert _flags([segment], [Span(0.2004, 5.0)]) == []


@pytest.mark.parametrize(
    ("speech_until", "probability", "no_speech", "flagged"),
    [
        (11.8, 0.9, 0.05, None),  # exactly half of the segment with a voice: not over silence
        (11.0, 0.9, 0.05, REASON_SILENCE),  # less than half
        (14.0, 0.35, 0.05, None),  # the decoder at exactly its lowest belief still counts
        (14.0, 0.3, 0.05, REASON_DOUBT),
        (14.0, 0.45, 0.1, None),  # hard speech: middling belief, but the window has speech
        (14.0, 0.45, 0.7, REASON_DOUBT),  # middling belief in a window Whisper thinks is silent
        (14.0, 0.45, 0.6, REASON_DOUBT),  # at Whisper's own no-speech limit
        (14.0, 0.5, 0.7, None),  # belief at the doubtful limit is not doubtful
    ],
)
def test_voice_and_belief_thresholds(
    speech_until: float, probability: float, no_speech: float, flagged: str | None
) -> None:
    segment = _segment("来年度の予算について説明します", 10.0, 14.0, probability)  # 4 words
    expected = [(0, "silence", flagged)] if flagged else []
    assert _flags([segment], [Span(8.0, speech_until)], no_speech=no_speech) == expected


# --- repetitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "loops"),
    [
        ("予算案予算案予算案", True),  # a three-character phrase three times
        ("予算案予算案", False),  # said twice: people do that
        ("よろしくお願いします。よろしくお願いします。", False),
        ("ああああああ", True),  # any sound six times
        ("あああああ", False),
        ("山田さん、田中さん、山田さん。", False),  # a roll call comes back to a name: no loop
    ],
)
def test_loops_in_the_text(text: str, loops: bool) -> None:
    segment = _segment(text, 1.0, 4.0)
    assert _flags([segment]) == ([(0, "repetition", REASON_LOOP)] if loops else [])


def test_a_window_that_compresses_like_a_loop_is_flagged_above_whispers_limit_only() -> None:
    segment = _segment("予算の執行状況について報告します。", 1.0, 4.0)
    assert _flags([segment], ratio=3.1) == [(0, "repetition", REASON_LOOP)]
    assert _flags([segment], ratio=2.4) == []  # Whisper keeps a window at its limit: not a loop


def _looped_window() -> RecognizedSegment:
    """The recogniser wrote a phrase four times from 2.0 to 8.0 s; the pipeline kept one copy."""
    words = [Word(start=2.0 + k * 1.5, end=3.5 + k * 1.5, text="よろしくお願いします。") for k in range(4)]
    return RecognizedSegment(2.0, 8.0, "よろしくお願いします。" * 4, words, -0.4, 0.1, 1.6)


@pytest.mark.parametrize(
    ("start", "end", "flagged"),
    [
        (1.6, 2.5, True),  # half a second into the loop's time
        (7.0, 7.8, True),  # over the last copy
        (2.0, 2.0, True),  # the kept copy's timing collapsed to the loop's first instant
        (30.0, 32.0, False),  # elsewhere in the recording
    ],
)
def test_the_time_of_a_loop_the_pipeline_cut_is_flagged(start: float, end: float, flagged: bool) -> None:
    segment = _segment("よろしくお願いします。", start, end)
    flags = find_flags([segment], [Span(0.0, 50.0)], [_looped_window()])
    assert [(f.kind, f.reason) for f in flags] == ([("repetition", REASON_LOOP_CUT)] if flagged else [])


def test_the_same_sentence_again_from_the_first_utterance_on_and_from_six_characters() -> None:
    again = [_segment("次へ進みます。", 1.0, 2.0), _segment("次へ進みます。", 2.2, 3.2)]  # six characters
    assert _flags(again) == [(1, "repetition", REASON_DUPLICATE)]
    short = [_segment("そうですね。", 1.0, 2.0), _segment("そうですね。", 2.2, 3.2)]  # five: an answer
    assert _flags(short) == []


def test_tuned_loop_thresholds_apply_to_the_text_and_to_the_loops_the_pipeline_cut() -> None:
    twice = Rules(loop_min_repeats=2)
    segment = _segment("予算案予算案", 1.0, 2.0)
    assert [f.reason for f in find_flags([segment], SPEECH, [_decoded(segment)], twice)] == [REASON_LOOP]
    kept = _segment("よろしくお願いします。", 2.0, 3.5)
    words = [Word(start=2.0 + k * 1.5, end=3.5 + k * 1.5, text="よろしくお願いします。") for k in range(2)]
    raw = RecognizedSegment(2.0, 5.0, "よろしくお願いします。" * 2, words, -0.4, 0.1, 1.3)
    assert find_flags([kept], SPEECH, [raw]) == []  # twice is speech by default
    assert [f.reason for f in find_flags([kept], SPEECH, [raw], twice)] == [REASON_LOOP_CUT]


# --- which recogniser segment a segment is judged by ---------------------------------------------


def test_without_the_recognisers_segments_text_is_still_judged() -> None:
    caption = _segment("ご視聴ありがとうございました", 20.0, 22.0)
    invented = _segment("次の議題に移ります。", 25.0, 28.0)
    spoken = _segment("はい。", 5.0, 5.5)  # one word: judged by its own words when no window is known
    flags = find_flags([spoken, caption, invented], SPEECH)
    assert [(f.segment, f.kind) for f in flags] == [(1, "caption"), (2, "silence")]


def test_segments_of_three_words_or_more_are_judged_by_their_own_words() -> None:
    # One recogniser segment holds a spoken sentence and, after it, words made up from noise.
    spoken = _segment("本日の議題は予算です", 0.0, 3.0, 0.9)  # three words
    invented = _segment("そうでしょうかそれともいやいや違うのかなどうかなうーん", 3.0, 9.0, 0.1)
    window = RecognizedSegment(0.0, 9.0, spoken.text + invented.text, spoken.words + invented.words, -1.0, 0.1, 1.5)
    flags = find_flags([spoken, invented], SPEECH, [window])
    assert [(f.segment, f.reason) for f in flags] == [(1, REASON_DOUBT)]


def test_a_short_segment_is_judged_by_the_recogniser_segment_it_came_from() -> None:
    # A sentence's first word often has a low probability and a speaker change can cut it off.
    cut_off = _segment("えっと", 0.0, 0.4, 0.2)
    rest = _segment("予算の説明を始めます。", 0.4, 3.0, 0.9)
    window = RecognizedSegment(0.0, 3.0, cut_off.text + rest.text, cut_off.words + rest.words, -0.3, 0.05, 1.3)
    assert find_flags([cut_off, rest], SPEECH, [window]) == []
    # ... also when it only reaches half a second into it, or touches its end with no length at all.
    noise = [Word(start=6.0, end=10.0, text="雑音から作った文", confidence=0.2)]
    doubtful = RecognizedSegment(6.0, 10.0, "雑音から作った文", noise, -2.0, 0.1, 1.0)
    for start, end in ((9.5, 10.5), (10.0, 10.0)):
        word = _segment("はい", start, end, 0.9)
        assert [f.reason for f in find_flags([word], [Span(0.0, 12.0)], [doubtful])] == [REASON_DOUBT]


def test_a_short_segment_with_no_recogniser_segment_under_it_is_judged_by_its_own_words() -> None:
    elsewhere = _decoded(_segment("雑音から作った文です", 0.0, 3.0, 0.1))
    word = _segment("はい", 5.0, 5.5, 0.9)
    assert find_flags([word], SPEECH, [elsewhere]) == []


def test_the_evidence_kept_for_inspection() -> None:
    windowed = _segment("本日の議題は予算です", 1.0, 4.0, 0.8)
    instant = _segment("はい", 5.0, 5.0, None)  # words without probabilities (older transcripts)
    alone = _segment("次の議題に移ります", 25.0, 27.0, 0.6)
    window = _decoded(windowed, no_speech=0.2, ratio=1.7, logprob=-0.5)
    rules = Rules()
    first, second, third = gather_evidence([windowed, instant, alone], [Span(0.0, 10.0)], [window], rules)
    assert first.speech_share == 1.0 and first.word_probability == pytest.approx(0.8)
    assert (first.no_speech_prob, first.avg_logprob, first.compression_ratio) == (0.2, -0.5, 1.7)
    assert (second.speech_share, second.word_probability) == (1.0, None)
    assert (third.speech_share, third.no_speech_prob, third.avg_logprob, third.compression_ratio) == (
        0.0,
        None,
        None,
        None,
    )
    # Without probabilities the words decide nothing; the voice still does.
    assert _flags([instant, _segment("はい", 30.0, 30.0, None)]) == [(1, "silence", REASON_SILENCE)]


def test_an_utterance_of_punctuation_only_does_not_stop_the_flags_after_it() -> None:
    assert _flags([_segment("。", 1.0, 1.2), _segment("チャンネル登録お願いします", 20.0, 22.0)]) == [
        (1, "caption", REASON_CAPTION)
    ]


# --- flags after utterances are cut anew ----------------------------------------------------------


def _flag(start: float, end: float, segment: int) -> Flag:
    return Flag(segment=segment, start=start, end=end, kind="silence", text="…", reason=REASON_SILENCE)


def test_a_flag_goes_to_the_utterance_that_now_holds_its_time() -> None:
    segments = [_segment("一つ目です", 0.0, 2.0), _segment("二つ目です", 2.0, 4.0), _segment("三つ目です", 4.0, 6.0)]
    assert [f.segment for f in repoint_flags([_flag(2.2, 3.8, 0)], segments)] == [1]
    # Its utterance was cut in two halves: it goes to the first.
    halves = [_segment("前半です", 5.0, 6.0), _segment("後半です", 6.0, 7.0)]
    assert [f.segment for f in repoint_flags([_flag(5.0, 7.0, 4)], halves)] == [0]

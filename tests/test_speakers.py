"""Words get speakers one by one: a speaker change inside one recogniser segment is honoured."""

from __future__ import annotations

from transcriber.diarization.base import Turn
from transcriber.speakers import assign_speakers, speakers_in_order
from transcriber.transcript import Segment, Word


def _segment(*words: tuple[float, float, str]) -> Segment:
    ws = [Word(start=a, end=b, text=t) for a, b, t in words]
    return Segment(start=ws[0].start, end=ws[-1].end, text="".join(w.text for w in ws), words=ws)


def test_a_change_inside_one_whisper_segment_splits_it() -> None:
    # Whisper heard one segment; the diarizer says S2 answered from 2.1 s.
    segment = _segment((0.0, 0.8, "ご意見"), (0.8, 1.9, "ありますか。"), (2.2, 2.6, "はい、"), (2.6, 3.5, "あります。"))
    turns = [Turn(0.0, 2.0, "S1"), Turn(2.1, 3.6, "S2")]
    out = assign_speakers([segment], turns)
    assert [(s.speaker, s.text) for s in out] == [("S1", "ご意見ありますか。"), ("S2", "はい、あります。")]
    assert out[1].words[0].start == 2.2


def test_a_written_backchannel_is_its_own_utterance() -> None:
    segment = _segment((0.0, 1.0, "説明"), (1.0, 2.0, "します"), (2.05, 2.4, "はい"), (2.5, 4.0, "まず予算です。"))
    turns = [Turn(0.0, 4.0, "S1"), Turn(2.0, 2.45, "S2")]
    out = assign_speakers([segment], turns)
    assert [(s.speaker, s.text) for s in out] == [("S1", "説明します"), ("S2", "はい"), ("S1", "まず予算です。")]


def test_words_outside_every_turn_keep_the_previous_speaker() -> None:
    first = _segment((0.0, 1.0, "開会します。"))
    second = _segment((5.0, 6.0, "続けて"), (6.0, 7.0, "説明します。"))
    out = assign_speakers([first, second], [Turn(0.0, 1.0, "S2"), Turn(6.5, 7.0, "S1")])
    assert [s.speaker for s in out] == ["S2", "S2", "S1"]
    assert [sp.id for sp in speakers_in_order(out)] == ["S2", "S1"]


def test_no_turns_leave_segments_as_they_are() -> None:
    segment = _segment((0.0, 1.0, "はい。"))
    assert assign_speakers([segment], []) == [segment]


def test_utterances_follow_the_turn_not_the_tighter_word_timings() -> None:
    # Whisper's words start 0.4 s after the voice and end 0.3 s before it stops.
    first = _segment((1.4, 2.0, "予算の"), (2.0, 2.7, "説明です。"))
    second = _segment((3.2, 4.0, "質問が"), (4.0, 4.6, "あります。"))
    turns = [Turn(1.0, 3.0, "S1"), Turn(3.1, 9.0, "S2")]
    out = assign_speakers([first, second], turns)
    assert [(s.start, s.end) for s in out] == [(1.0, 3.0), (3.1, 5.6)]  # S2 reaches at most 1 s past its words
    assert out[0].words[0].start == 1.4  # word timings stay as recognised


def test_a_speaker_change_never_cuts_a_word() -> None:
    # The diarizer's change (1.2 s) falls inside 商品; the morpheme goes whole to the speaker whose
    # turn covers more of it (S2 holds 0.4 s of its 0.6 s).
    head = [(0.0, 0.5, "説明は"), (0.5, 1.0, "以上"), (1.0, 1.3, "商")]
    segment = _segment(*head, (1.3, 1.6, "品"), (1.6, 2.5, "について質問です。"))
    out = assign_speakers([segment], [Turn(0.0, 1.2, "S1"), Turn(1.2, 3.0, "S2")])
    assert [(s.speaker, s.text) for s in out] == [("S1", "説明は以上"), ("S2", "商品について質問です。")]


def test_a_fragment_in_an_unwritten_backchannels_turn_stays_with_the_speaker() -> None:
    # S2's backchannel (not written by the recogniser) overlaps 費; 実行|費 are two morphemes, so
    # only the fragment rule keeps 費 with S1: one character, S1 on both sides, S2's turn short.
    segment = _segment((0.0, 0.6, "新しい"), (0.6, 1.0, "実行"), (1.0, 1.3, "費"), (1.3, 2.0, "は未定です。"))
    out = assign_speakers([segment], [Turn(0.0, 2.0, "S1"), Turn(1.0, 1.45, "S2")])
    assert [(s.speaker, s.text) for s in out] == [("S1", "新しい実行費は未定です。")]


def test_a_long_turn_is_sure_a_fragment_keeps_its_speaker() -> None:
    segment = _segment((0.0, 0.6, "新しい"), (0.6, 1.0, "実行"), (1.0, 1.3, "費"), (1.3, 2.0, "は未定です。"))
    out = assign_speakers([segment], [Turn(0.0, 2.0, "S1"), Turn(0.95, 2.0, "S2"), Turn(1.35, 2.0, "S1")])
    assert [s.speaker for s in out] == ["S1", "S2", "S1"]


def test_a_written_backchannel_between_one_speakers_words_stays_its_own() -> None:
    segment = _segment((0.0, 1.0, "説明します"), (1.0, 1.3, "ええ"), (1.3, 2.5, "まず予算です。"))
    out = assign_speakers([segment], [Turn(0.0, 2.5, "S1"), Turn(0.95, 1.35, "S2")])
    assert [(s.speaker, s.text) for s in out] == [("S1", "説明します"), ("S2", "ええ"), ("S1", "まず予算です。")]


def test_utterances_are_pulled_in_to_the_turn_and_keep_their_words_inside() -> None:
    # The recogniser's first word starts where the previous segment ended, 0.4 s before the voice.
    first = _segment((0.5, 2.0, "お待たせしました。"))
    second = _segment((2.0, 2.6, "ご用件を"), (2.6, 3.5, "どうぞ。"))
    out = assign_speakers([first, second], [Turn(0.9, 2.0, "S1"), Turn(2.4, 3.6, "S2")])
    assert [(s.speaker, s.start, s.end) for s in out] == [("S1", 0.9, 2.0), ("S2", 2.4, 3.6)]
    for s in out:
        assert s.start <= s.words[0].start and s.words[-1].end <= s.end
    assert out[1].words[0].start == 2.4 and out[1].words[1].start == 2.6


def test_a_speech_runs_on_under_the_other_speakers_backchannel() -> None:
    # S1's turn goes on under S2's はい: S1's utterances cover it (overlap is scored), S2's too.
    segment = _segment((0.0, 1.0, "説明します"), (2.05, 2.4, "はい"), (2.5, 4.0, "まず予算です。"))
    out = assign_speakers([segment], [Turn(0.0, 4.0, "S1"), Turn(2.0, 2.45, "S2")])
    assert [(s.speaker, s.start, s.end) for s in out] == [("S1", 0.0, 2.0), ("S2", 2.0, 2.45), ("S1", 2.0, 4.0)]


def test_punctuation_alone_never_becomes_a_speakers_utterance() -> None:
    # A listener's short turn falls on nothing but the recogniser's comma: a comma carries no voice,
    # so it stays in the speech around it instead of an utterance 「、」 under the listener.
    segment = _segment((0.0, 1.0, "予算は"), (1.0, 1.1, "、"), (1.1, 2.0, "未定です。"))
    out = assign_speakers([segment], [Turn(0.0, 2.0, "S1"), Turn(0.98, 1.12, "S2")])
    assert [(s.speaker, s.text) for s in out] == [("S1", "予算は、未定です。")]

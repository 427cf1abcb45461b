"""Speakers on words, case by case: the places mutation testing (docs/mutation.md) showed no other
test would notice breaking. Each case is what the minutes show: who said which words, where an
utterance starts and ends."""

from __future__ import annotations

from transcriber.diarization.base import Turn
from transcriber.speakers import assign_speakers, fit_to_turns, is_backchannel
from transcriber.transcript import Segment, Word


def _segment(*words: tuple[float, float, str], speaker: str = "S1") -> Segment:
    ws = [Word(start=a, end=b, text=t) for a, b, t in words]
    return Segment(start=ws[0].start, end=ws[-1].end, speaker=speaker, text="".join(w.text for w in ws), words=ws)


def _said(segments: list[Segment], turns: list[Turn]) -> list[tuple[str, str]]:
    return [(s.speaker, s.text) for s in assign_speakers(segments, turns)]


def _times(segments: list[Segment], turns: list[Turn], pull_in: bool = True) -> list[tuple[str, float, float]]:
    return [(s.speaker, s.start, s.end) for s in assign_speakers(segments, turns, pull_in=pull_in)]


def test_backchannels_with_lengthening_or_repeats_are_a_listeners_line() -> None:
    for text in ("はい", "はいはい", "うんうん", "ええええ", "ええー", "あー", "そうですね。", "なるほど"):
        assert is_backchannel(text), text
    for text in ("", "。", "はいけい", "予算", "はいう"):
        assert not is_backchannel(text), text


# --- which turn a word belongs to ---------------------------------------------------------------


def test_a_word_in_a_gap_keeps_the_previous_speaker_even_where_another_turn_ends_at_it() -> None:
    first = _segment((1.0, 2.0, "説明します。"))
    after = _segment((5.0, 5.3, "以上"))  # S1's turn ends exactly where the word starts: no overlap
    assert _said([first, after], [Turn(0.0, 4.0, "S2"), Turn(4.5, 5.0, "S1")]) == [
        ("S2", "説明します。"),
        ("S2", "以上"),
    ]


def test_a_word_goes_to_the_turn_covering_most_of_it_and_on_a_tie_to_the_earlier_turn() -> None:
    words = ((1.0, 2.0, "予算の"), (2.0, 3.0, "説明"), (3.0, 4.0, "について"))
    tie = [Turn(0.0, 2.5, "S1"), Turn(2.5, 5.0, "S2")]  # 説明 half in each
    assert _said([_segment(*words)], tie) == [("S1", "予算の説明"), ("S2", "について")]
    most = [Turn(0.0, 2.3, "S1"), Turn(2.3, 5.0, "S2")]  # 説明 0.3 s in S1's, 0.7 s in S2's
    assert _said([_segment(*words)], most) == [("S1", "予算の"), ("S2", "説明について")]


def test_a_backchannel_turn_nested_in_a_speech_takes_the_word_it_covers_four_fifths_of() -> None:
    words = ((0.0, 1.0, "説明します"), (1.0, 2.25, "はい"), (2.25, 3.5, "続けます"))
    turns = [Turn(0.0, 10.0, "S1"), Turn(1.0, 2.0, "S2")]  # S2's turn: 1.0 s of はい's 1.25 s
    assert _said([_segment(*words)], turns) == [("S1", "説明します"), ("S2", "はい"), ("S1", "続けます")]


def test_a_backchannel_late_in_a_speech_is_the_listeners() -> None:
    words = ((6.0, 7.9, "説明します"), (8.2, 8.8, "はい"), (9.1, 10.0, "続けます"))
    turns = [Turn(0.0, 10.0, "S1"), Turn(8.0, 9.0, "S2")]
    assert _said([_segment(*words)], turns) == [("S1", "説明します"), ("S2", "はい"), ("S1", "続けます")]


def test_the_shortest_of_several_turns_over_a_word_takes_it() -> None:
    # The chair's long turn, S2's short backchannel turn, S3 starting to speak just after S2.
    words = ((6.0, 7.9, "説明します"), (8.2, 8.8, "はい"), (9.1, 10.0, "続けます"))
    turns = [Turn(0.0, 10.0, "S1"), Turn(8.0, 9.0, "S2"), Turn(8.1, 10.5, "S3")]
    assert ("S2", "はい") in _said([_segment(*words)], turns)


def test_two_equally_long_turns_over_a_word_give_it_to_the_earlier_one() -> None:
    words = ((0.2, 0.9, "それでは"), (1.0, 1.5, "はい"))
    assert _said([_segment(*words)], [Turn(0.0, 2.0, "S1"), Turn(0.5, 2.5, "S2")]) == [("S1", "それでははい")]


def test_the_first_words_before_any_turn_go_to_the_nearest_turn() -> None:
    # The diarizer heard S1 until 1.9 s and S2 from 3.0 s; the recording's first word falls between.
    just_after = [_segment((2.0, 2.3, "ええと"), (3.1, 4.0, "予算です"))]
    turns = [Turn(0.0, 1.9, "S1"), Turn(3.0, 5.0, "S2")]
    assert [speaker for speaker, _ in _said(just_after, turns)] == ["S1", "S2"]
    just_before = [_segment((2.6, 2.9, "ええと"), (3.1, 4.0, "予算です"))]
    turns = [Turn(0.0, 1.0, "S1"), Turn(3.0, 5.0, "S2")]
    assert [speaker for speaker, _ in _said(just_before, turns)] == ["S2"]


def test_segments_without_word_timings_get_speakers_whole() -> None:
    segments = [
        Segment(start=0.0, end=2.0, text="開会します。"),
        Segment(start=3.0, end=5.0, text="質問です。"),
    ]
    out = assign_speakers(segments, [Turn(0.0, 2.5, "S1"), Turn(2.5, 6.0, "S2")])
    assert [(s.speaker, s.text, s.words) for s in out] == [("S1", "開会します。", []), ("S2", "質問です。", [])]


# --- words are never cut --------------------------------------------------------------------------


def test_a_cut_word_goes_whole_to_the_speaker_holding_more_of_its_time() -> None:
    # 予算案 is one word: 予算 in S1's turn, 案 mostly in S2's; S1 holds 0.65 s of its 0.8 s.
    words = ((1.0, 1.6, "予算"), (1.6, 1.8, "案"), (1.8, 3.0, "について質問です。"))
    turns = [Turn(0.0, 1.65, "S1"), Turn(1.65, 4.0, "S2")]
    assert _said([_segment(*words)], turns) == [("S1", "予算案"), ("S2", "について質問です。")]


def test_a_cut_word_is_weighed_over_all_its_pieces() -> None:
    # 予|算 in S1's turn (0.4 s), 案 in S2's (1.0 s): the word goes to S2.
    words = ((1.0, 1.2, "予"), (1.2, 1.4, "算"), (1.4, 2.4, "案"), (2.4, 3.0, "について"))
    assert _said([_segment(*words)], [Turn(0.0, 1.4, "S1"), Turn(1.4, 5.0, "S2")]) == [("S2", "予算案について")]


def test_a_cut_word_held_equally_goes_to_the_speaker_before_it() -> None:
    words = ((1.0, 1.5, "予算"), (1.5, 2.0, "案"), (2.0, 3.0, "について"))
    assert _said([_segment(*words)], [Turn(0.0, 1.5, "S1"), Turn(1.5, 4.0, "S2")]) == [
        ("S1", "予算案"),
        ("S2", "について"),
    ]
    # Held within half a millisecond of equally (timings are in ms) is a tie too.
    turns = [Turn(0.9, 1.4998, "S2"), Turn(1.4998, 4.0, "S1")]
    assert _said([_segment(*words)], turns) == [("S2", "予算案"), ("S1", "について")]


def test_a_word_made_whole_again_after_its_neighbour_moved() -> None:
    # S1 speaks throughout; S2 and S3 have short turns over it. The token 案質 reaches into 質問:
    # making 質問 whole gives 案質 to S1, which leaves 予算案 cut again, and it goes to S1 too.
    segment = _segment((1.0, 2.0, "予算"), (2.0, 2.4, "案質"), (2.4, 3.5, "問"))
    turns = [Turn(0.0, 10.0, "S1"), Turn(0.9, 2.05, "S2"), Turn(1.95, 2.45, "S3")]
    assert _said([segment], turns) == [("S1", "予算案質問")]


# --- pieces of a word caught by a backchannel's turn ---------------------------------------------


def _fragment_case(head: list[tuple[float, float, str]], turns: list[Turn]) -> list[tuple[str, str]]:
    words = [*head, (10.0, 11.0, "予算は"), (11.0, 11.15, "千"), (11.15, 11.3, "万"), (11.3, 12.0, "円です。")]
    return _said([_segment(*words)], [*turns, Turn(10.0, 12.0, "S1"), Turn(11.0, 11.35, "S2")])


def test_a_two_character_piece_in_a_short_nested_turn_goes_back_to_the_speaker() -> None:
    assert _fragment_case([], []) == [("S1", "予算は千万円です。")]


def test_a_piece_whose_turn_is_exactly_the_unsure_length_goes_back_to_the_speaker() -> None:
    words = ((0.0, 1.0, "予算は"), (1.0, 1.15, "千"), (1.15, 1.3, "万"), (1.3, 2.0, "円です。"))
    turns = [Turn(0.0, 2.0, "S1"), Turn(0.5, 1.5, "S2")]  # S2's turn: 1.0 s
    assert _said([_segment(*words)], turns) == [("S1", "予算は千万円です。")]


def test_a_piece_half_covered_by_the_speakers_turns_goes_back_to_them() -> None:
    words = ((4.0, 5.0, "予算"), (5.0, 5.5, "は"), (5.5, 6.5, "以上"))
    turns = [Turn(0.0, 5.25, "S1"), Turn(5.1, 5.6, "S2"), Turn(5.6, 10.0, "S1")]
    assert _said([_segment(*words)], turns) == [("S1", "予算は以上")]


def test_pieces_are_still_found_after_other_speaker_changes() -> None:
    # Before the piece: a third speaker, a written backchannel, a sure piece (its turn is long), a
    # piece outside the speaker's turns. Each stays as it is, and none stops the search after it.
    cases = [
        ([(0.0, 1.0, "開会します")], [Turn(0.0, 1.0, "S3")], [("S3", "開会します")]),
        (
            [(1.0, 2.0, "説明します"), (2.0, 2.3, "はい"), (2.3, 3.0, "次に")],
            [Turn(1.0, 3.0, "S1"), Turn(1.95, 2.35, "S2")],
            [("S1", "説明します"), ("S2", "はい"), ("S1", "次に")],
        ),
        (
            [(1.0, 1.6, "新しい"), (1.6, 1.9, "費"), (1.9, 3.0, "は未定")],
            [Turn(1.0, 3.0, "S1"), Turn(1.55, 2.7, "S2"), Turn(1.95, 3.0, "S1")],
            [("S1", "新しい"), ("S2", "費"), ("S1", "は未定")],
        ),
        (
            [(1.0, 2.0, "予算は"), (2.0, 2.3, "千"), (2.3, 3.0, "円です")],
            [Turn(1.0, 2.0, "S1"), Turn(2.0, 2.35, "S2"), Turn(2.35, 3.0, "S1")],
            [("S1", "予算は"), ("S2", "千"), ("S1", "円です")],
        ),
    ]
    for head, turns, said in cases:
        assert _fragment_case(head, turns) == [*said, ("S1", "予算は千万円です。")]


def test_a_speakers_turns_that_only_touch_a_piece_do_not_make_it_sure() -> None:
    # S2's long turns end where the piece 千 starts and begin where it ends: its own turn is short.
    words = ((1.0, 2.0, "予算は"), (5.0, 5.3, "千"), (8.0, 9.0, "円です。"))
    turns = [Turn(0.0, 10.0, "S1"), Turn(2.0, 5.0, "S2"), Turn(5.0, 5.3, "S2"), Turn(5.3, 8.0, "S2")]
    assert {speaker for speaker, _ in _said([_segment(*words)], turns)} == {"S1"}


# --- utterance edges ----------------------------------------------------------------------------


def test_utterances_of_one_speaker_never_overlap() -> None:
    first = _segment((1.0, 3.0, "予算の説明です。"))
    second = _segment((3.5, 6.0, "次に質問です。"))
    assert _times([first, second], [Turn(0.0, 10.0, "S1")]) == [("S1", 0.0, 3.5), ("S1", 3.5, 7.0)]


def test_an_utterance_is_not_stretched_into_its_speakers_turns_that_only_touch_it() -> None:
    # The recogniser's segment starts where the speaker's previous turn ended, a second early.
    late = _segment((3.0, 3.8, "続けて"), (3.8, 5.0, "説明します。"))
    assert _times([late], [Turn(0.0, 3.0, "S1"), Turn(4.0, 7.0, "S1")]) == [("S1", 3.8, 6.0)]
    # ... and ends where the speaker's next turn begins.
    early = _segment((1.0, 2.0, "予算の"), (2.0, 3.0, "説明です。"))
    assert _times([early], [Turn(0.0, 2.0, "S1"), Turn(3.0, 7.0, "S1")]) == [("S1", 0.0, 2.0)]


def test_an_utterance_outside_its_speakers_turns_keeps_its_times_and_bounds_the_next() -> None:
    # はい comes before the diarizer's first turn (it goes to the nearest, S1, whose turn starts later).
    first = _segment((0.2, 0.6, "はい"))
    second = _segment((1.0, 2.0, "予算です"))
    assert _times([first, second], [Turn(0.8, 3.0, "S1")]) == [("S1", 0.2, 0.6), ("S1", 0.8, 3.0)]


def test_an_utterance_is_stretched_to_its_turn_by_at_most_a_second() -> None:
    # The recogniser missed the start of a long turn.
    segment = _segment((4.0, 5.0, "予算の"), (5.0, 6.0, "説明です。"))
    assert _times([segment], [Turn(0.0, 10.0, "S1")]) == [("S1", 3.0, 7.0)]


def test_without_pulling_in_utterances_are_only_stretched() -> None:
    segment = _segment((0.5, 2.0, "お待たせしました。"))
    turns = [Turn(0.9, 2.0, "S1")]
    assert _times([segment], turns, pull_in=False) == [("S1", 0.5, 2.0)]
    # The pipeline's last step (fit_to_turns with its defaults) pulls them in.
    assert [(s.start, s.end) for s in fit_to_turns([segment], turns)] == [(0.9, 2.0)]


def test_an_utterance_is_pulled_in_no_further_than_its_edge_words() -> None:
    late_turn = _segment((1.0, 1.3, "はい"), (1.3, 2.5, "予算です。"))  # the turn starts after はい ends
    assert _times([late_turn], [Turn(1.5, 2.0, "S1")]) == [("S1", 1.3, 2.0)]
    early_end = _segment((1.0, 1.5, "予算の"), (2.2, 3.0, "説明です。"))  # the turn ends before 説明です
    assert _times([early_end], [Turn(0.9, 2.0, "S1")]) == [("S1", 0.9, 2.2)]


def test_utterance_times_are_rounded_to_the_millisecond_and_edge_words_clipped() -> None:
    segment = _segment((0.5, 1.5, "予算の"), (1.5, 2.8, "説明です。"))
    out = assign_speakers([segment], [Turn(0.12345, 2.49876, "S1")])
    assert [(s.start, s.end) for s in out] == [(0.123, 2.499)]
    assert [(w.start, w.end) for w in out[0].words] == [(0.5, 1.5), (1.5, 2.499)]


def test_overlapping_recogniser_segments_of_one_speaker_keep_their_own_times() -> None:
    # Whisper's segments can overlap; fitted to the turn, the first would shrink to an instant.
    first = _segment((1.0, 2.0, "予算の"), (2.0, 3.0, "説明です。"))
    second = _segment((2.0, 2.5, "次に"), (2.5, 3.5, "質問です。"))
    assert _times([first, second], [Turn(2.3, 4.7, "S1")]) == [("S1", 1.0, 3.0), ("S1", 2.5, 4.5)]

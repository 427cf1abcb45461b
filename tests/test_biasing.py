"""Second opinions: a term is taken from the recogniser only where it writes it, and nothing else changes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dictionaries.correction import Corrector
from dictionaries.suspects import Suspect
from dictionaries.terms import Term
from transcriber.biasing import REDECODE_SHARE, Budget, TermRedecoder, _piece, budget_for
from transcriber.pipeline import Pipeline
from transcriber.terminology import apply_terms
from transcriber.transcript import Correction, Segment, Word

AUDIO = np.zeros(16000 * 40, dtype=np.float32)
TERMS = [Term("随意契約", "ずいいけいやく"), Term("杭全", "くまた"), Term("酉島", "とりしま")]


def _words(start: float, pieces: list[str]) -> list[Word]:
    return [Word(start=start + k / 2, end=start + k / 2 + 0.4, text=p, confidence=0.5) for k, p in enumerate(pieces)]


def _segment(start: float, pieces: list[str]) -> Segment:
    words = _words(start, pieces)
    return Segment(start=words[0].start, end=words[-1].end, text="".join(pieces), words=words)


class Answers:
    """Stands in for Whisper: for each stretch heard, what it writes after each (prompt, prefix);
    records what it was asked: (seconds of audio, asks)."""

    def __init__(self, *stretches: Callable[[str, str], str], seconds: float = 1.0) -> None:
        self.stretches = list(stretches)
        self.seconds = seconds  # each hearing takes this long on the stand-in's clock
        self.now = 0.0
        self.asked: list[tuple[float, list[tuple[str, str]]]] = []
        self.token_limits: list[int] = []

    def continuations(
        self, audio: np.ndarray, asks: list[tuple[str, str]], max_tokens: int, language: str
    ) -> list[str]:
        assert language == "ja"
        self.asked.append((len(audio) / 16000, asks))
        self.token_limits.append(max_tokens)
        self.now += self.seconds
        answer = self.stretches.pop(0)
        return [answer(prompt, prefix) for prompt, prefix in asks]

    def count_tokens(self, text: str, language: str) -> int:  # one token a character
        return len(text)

    def clock(self) -> float:
        return self.now


def _says(text: str) -> Callable[[str, str], str]:
    """Whisper hears ``text`` whatever the prompt, and goes on from wherever the prefix stops in it."""

    def going_on(prompt: str, prefix: str) -> str:
        assert text.startswith(prefix), (prefix, text)
        return text[len(prefix) :]

    return going_on


def _run(
    segments: list[Segment],
    answers: Answers,
    places: int = 10,
    terms: list[Term] = TERMS,
    time_limit: float = 100.0,
) -> tuple[list[Segment], list[Correction]]:
    corrector = Corrector(terms)
    fixed, corrections = apply_terms(segments, corrector)
    redecoder = TermRedecoder(corrector, answers, "ja", clock=answers.clock)
    return redecoder.run(AUDIO, fixed, corrections, Budget(places, time_limit))


def test_only_the_confirmed_stretch_becomes_the_term() -> None:
    segments = [
        _segment(0.0, ["クマタ", "の", "交差点", "です。"]),
        _segment(3.0, ["つい", "契約", "で", "進め", "たい", "んです", "けど"]),
    ]
    answers = Answers(_says("随意契約で進めたいんですが"))
    out, corrections = _run(segments, answers)
    assert out[1].text == "随意契約で進めたいんですけど"  # only the term is taken, not けど → が
    assert answers.asked[0][1] == [("随意契約。", "")]  # the suspected term, as if said just before
    redecoded = [c for c in corrections if c.rule == "redecode"]
    assert [(c.segment, c.before, c.after, c.term) for c in redecoded] == [(1, "つい契約", "随意契約", "随意契約")]
    assert out[1].text[redecoded[0].start : redecoded[0].end] == "随意契約"
    # the reading correction in the first utterance is kept as it was
    assert out[0].text == "杭全の交差点です。" and any(c.rule == "reading" and c.segment == 0 for c in corrections)
    # word timings stay the first pass's: the term spans the two words it replaced
    assert [(w.text, w.start, w.end) for w in out[1].words[:2]] == [("随意契約", 3.0, 3.9), ("で", 4.0, 4.4)]


def test_only_as_many_tokens_are_asked_as_the_term_needs() -> None:
    answers = Answers(_says("はい酉島の実家から"), _says("随意契約で進めたい"))
    _run([_segment(0.0, ["はい", "取り", "島", "の", "実家"]), _segment(10.0, ["つい", "契約", "で"])], answers)
    assert answers.token_limits == [2 + 2, 4 + 2]  # 酉島, 随意契約, each with a particle's room before it


def test_nothing_changes_when_the_recogniser_keeps_its_first_answer() -> None:
    segments = [_segment(0.0, ["つい", "契約", "で", "進め", "たい"])]
    out, corrections = _run(segments, Answers(_says("つい契約で進めたい")))
    assert out == segments and corrections == []


def test_a_term_written_further_on_is_not_taken_for_the_suspected_words() -> None:
    segments = [_segment(0.0, ["つい", "契約", "で", "進め", "たい", "んです", "けど"])]
    out, _ = _run(segments, Answers(lambda prompt, prefix: "ついに随意契約で"))
    assert out == segments


def test_a_particle_written_before_the_term_is_kept() -> None:
    # The analyser reads はよう as one word, so the suspected stretch starts with the particle.
    segments = [_segment(0.0, ["まず", "はよう、", "会合", "認定", "の", "申請", "を"])]
    answers = Answers(lambda prompt, prefix: " は要介護認定の" if prefix == "まず" else "?")
    out, _ = _run(segments, answers, terms=[Term("要介護認定", "ようかいごにんてい")])
    assert answers.asked[0][1] == [("要介護認定。", "まず")] and out[0].text == "まずは要介護認定の申請を"


def test_numbers_stay_the_first_pass_s() -> None:
    segments = [_segment(0.0, ["つい", "契約", "は", "1,400", "円", "です"])]
    out, _ = _run(segments, Answers(_says("随意契約は1,500円です")))
    assert out[0].text == "随意契約は1,400円です"


def test_each_suspect_is_asked_with_its_own_term() -> None:
    first = _segment(0.0, ["つい", "契約", "で", "進め", "たい"])  # 0.0–2.4 s
    second = _segment(10.0, ["はい", "取り", "島", "の", "実家", "から"])  # 10.0–12.9 s

    def whisper(prompt: str, prefix: str) -> str:  # writes whatever term it was shown
        return prompt.rstrip("。") + "の"

    answers = Answers(whisper, whisper)
    out, corrections = _run([first, second], answers)
    # the more term-like first (取り島 sounds exactly like 酉島), each stretch with 0.15 s either side
    assert [asks for _, asks in answers.asked] == [[("酉島。", "はい")], [("随意契約。", "")]]
    assert [round(seconds, 2) for seconds, _ in answers.asked] == [3.2, 2.55]
    assert [s.text for s in out] == ["随意契約で進めたい", "はい酉島の実家から"]
    assert [c.segment for c in corrections] == [0, 1]


def test_the_same_words_confirmed_once_are_taken_again_without_asking() -> None:
    """One speaker's name misheard the same way twice: Whisper is asked once (a second ask would
    find the stand-in with no answer left)."""
    segments = [_segment(10.0 * k, ["つい", "契約", "で", "進め", "たい"]) for k in range(3)]
    answers = Answers(_says("随意契約で進めたい"))
    out, corrections = _run(segments, answers)
    assert len(answers.asked) == 1
    assert [s.text for s in out] == ["随意契約で進めたい"] * 3
    assert [(c.segment, c.before, c.rule) for c in corrections] == [(k, "つい契約", "redecode") for k in range(3)]


def test_confirmed_words_are_taken_also_where_they_were_never_to_be_asked() -> None:
    # The second utterance's words were heard surely (no place to ask), yet they are the same words.
    first = _segment(0.0, ["はい", "取り", "島", "の", "実家", "から"])
    second = _segment(10.0, ["取り", "島", "の", "駅", "です"])
    second = second.model_copy(update={"words": [w.model_copy(update={"confidence": 0.95}) for w in second.words]})
    answers = Answers(_says("はい酉島の実家から"))
    out, corrections = _run([first, second], answers)
    assert len(answers.asked) == 1
    assert [s.text for s in out] == ["はい酉島の実家から", "酉島の駅です"]
    assert [(c.segment, c.before, c.after) for c in corrections] == [(0, "取り島", "酉島"), (1, "取り島", "酉島")]


def test_other_words_suspected_of_the_same_term_are_still_asked() -> None:
    segments = [_segment(0.0, ["吸い", "契約", "で"]), _segment(10.0, ["つい", "契約", "で", "進め", "たい"])]
    answers = Answers(_says("随意契約で"), _says("つい契約で進めたい"))  # 吸い契約 sounds more like it: first
    out, _ = _run(segments, answers)
    assert len(answers.asked) == 2 and [s.text for s in out] == ["随意契約で", "つい契約で進めたい"]


def test_only_as_many_places_as_allowed_are_heard_again_the_most_term_like_first() -> None:
    first = _segment(0.0, ["つい", "契約", "で", "進め", "たい"])
    second = _segment(25.0, ["はい", "取り", "島", "の", "実家", "から"])
    toriyama, zuii = _says("はい酉島の実家から"), _says("随意契約で進めたい")
    answers = Answers(toriyama, zuii)
    out, _ = _run([first, second], answers, places=0)
    assert answers.asked == [] and [s.text for s in out] == ["つい契約で進めたい", "はい取り島の実家から"]
    out, _ = _run([first, second], answers, places=1)  # the more term-like, 酉島
    assert len(answers.asked) == 1 and [s.text for s in out] == ["つい契約で進めたい", "はい酉島の実家から"]
    answers = Answers(toriyama, zuii)
    out, _ = _run([first, second], answers, places=2)
    assert len(answers.asked) == 2 and [s.text for s in out] == ["随意契約で進めたい", "はい酉島の実家から"]


def test_a_busy_machine_gets_the_same_second_opinions() -> None:
    places = [_segment(10.0 * k, ["つい", "契約", "で", "進め", "たい"]) for k in range(6)]
    quick = Answers(*[_says("つい契約で進めたい")] * 6, seconds=0.25)
    slow = Answers(*[_says("つい契約で進めたい")] * 6, seconds=0.6)  # the same places, each 2.4x slower
    _run(places, quick, places=3, time_limit=2.0)
    _run(places, slow, places=3, time_limit=2.0)
    assert quick.asked == slow.asked and len(quick.asked) == 3


def test_asking_stops_before_the_time_guard_would_be_passed() -> None:
    # (the next place is reckoned at the longest one so far: the guard is kept, not overrun by the last)
    places = [_segment(10.0 * k, ["つい", "契約", "で", "進め", "たい"]) for k in range(6)]
    answers = Answers(*[_says("つい契約で進めたい")] * 6, seconds=0.75)
    _run(places, answers, places=6, time_limit=2.0)  # 0.75 + 0.75 fit; a third would end at 2.25 s
    assert len(answers.asked) == 2


def test_a_recording_s_places_follow_its_first_pass_windows() -> None:
    def places_for(share: float, windows: int) -> int:
        return budget_for(share, windows, recognition_time=4.3 * windows).places

    assert places_for(REDECODE_SHARE, windows=1) == 1  # a short phone call still gets a place
    assert places_for(REDECODE_SHARE, windows=60) > 10 * places_for(REDECODE_SHARE, windows=3)
    assert places_for(0.0, windows=60) == 0  # switched off


def test_a_place_the_first_pass_was_unsure_of_is_asked_first() -> None:
    sure = _segment(0.0, ["はい", "取り", "島", "の", "実家", "から"])  # sounds exactly like 酉島, but...
    sure = sure.model_copy(update={"words": [w.model_copy(update={"confidence": 0.99}) for w in sure.words]})
    unsure = _segment(10.0, ["つい", "契約", "で", "進め", "たい"])  # a little less alike, heard at 0.5
    answers = Answers(_says("随意契約で進めたい"))
    out, _ = _run([sure, unsure], answers, places=1)  # room for one place
    assert [asks for _, asks in answers.asked] == [[("随意契約。", "")]]
    assert [s.text for s in out] == ["はい取り島の実家から", "随意契約で進めたい"]


def test_a_place_the_first_pass_was_sure_of_is_never_asked() -> None:
    # Asked about a sure word (関係局 at 0.91), Whisper with another term in its prompt writes that term.
    sure = _segment(0.0, ["はい", "取り", "島", "の", "実家", "から"])
    sure = sure.model_copy(update={"words": [w.model_copy(update={"confidence": 0.95}) for w in sure.words]})
    answers = Answers(_says("はい酉島の実家から"))
    out, _ = _run([sure], answers, places=10)
    assert answers.asked == [] and out[0].text == "はい取り島の実家から"


def test_two_terms_suspected_at_one_place_are_both_asked_and_one_is_taken() -> None:
    terms = [Term("住之江区", "すみのえく"), Term("住吉区", "すみよしく")]
    segment = _segment(0.0, ["墨", "の", "市区", "役所", "の", "窓口"])

    def whisper(prompt: str, prefix: str) -> str:  # writes whatever term it was shown
        return prompt.rstrip("。") + "役所の窓口"

    answers = Answers(whisper)
    out, corrections = _run([segment], answers, terms=terms)
    assert {prompt for prompt, _ in answers.asked[0][1]} == {"住之江区。", "住吉区。"}  # one hearing, two asks
    assert len(corrections) == 1 and out[0].text.count("区") == 1  # not both, one over the other


def test_a_long_utterance_is_heard_again_only_around_the_suspect() -> None:
    pieces = ["えー", "本日", "は", "各", "地域", "の", "状況", "を", "報告", "し", "ます", "つい", "契約"]
    pieces += ["の", "収集", "について", "です", "が", "昨年", "より", "増え", "て", "おり", "ます"]
    segment = _segment(0.0, pieces)  # 24 words, 12 s; つい契約 at 5.5–6.4 s
    answers = Answers(lambda prompt, prefix: "随意契約の収集")
    out, _ = _run([segment], answers)
    assert 4.0 < answers.asked[0][0] < 5.5  # 1 s before, 2.5 s after, cut at words, not the whole 12 s
    assert answers.asked[0][1] == [("随意契約。", "します")]  # the words heard before it there
    assert out[0].text == "".join(pieces).replace("つい契約", "随意契約")


def test_a_term_the_recogniser_writes_by_its_sound_is_taken() -> None:
    # Shown 要介護認定, Whisper spelled it by sound (よを: a long vowel written as を) where the first
    # pass wrote 会合 (a meeting): what it heard is the term, so the term is written.
    terms = [Term("要介護認定", "ようかいごにんてい")]
    segment = _segment(0.0, ["まず", "は", "よう", "、", "会合", "認定", "の", "申請"])
    answers = Answers(lambda prompt, prefix: "はよを介護認定の申請")
    out, corrections = _run([segment], answers, terms=terms)
    assert out[0].text == "まずは要介護認定の申請"
    assert [(c.before, c.after, c.rule) for c in corrections] == [("はよう、会合認定", "は要介護認定", "redecode")]


def test_a_short_term_is_not_taken_from_its_sound_alone() -> None:
    # 取り島 sounds exactly like 酉島 (4 kana), as 取り締まり starts like it: only the written term counts.
    answers = Answers(_says("はい取り島の実家から"))
    out, corrections = _run([_segment(0.0, ["はい", "取り", "島", "の", "実家", "から"])], answers)
    assert len(answers.asked) == 1 and out[0].text == "はい取り島の実家から" and corrections == []


def test_a_place_that_sounds_like_a_term_goes_before_one_that_only_half_does() -> None:
    terms = [Term("酉島", "とりしま"), Term("十三", "じゅうそう")]
    # 集計 (しゅうけい) is a little like 十三 (じゅうそう), and the first pass was very unsure of it ...
    half = _segment(0.0, ["その", "集計", "です"])
    half = half.model_copy(update={"words": [w.model_copy(update={"confidence": 0.1}) for w in half.words]})
    # ... 取り島 sounds just like 酉島, and the first pass was fairly sure of it.
    alike = _segment(10.0, ["はい", "取り", "島", "の", "実家", "から"])
    alike = alike.model_copy(update={"words": [w.model_copy(update={"confidence": 0.7}) for w in alike.words]})
    answers = Answers(_says("はい酉島の実家から"))
    out, _ = _run([half, alike], answers, places=1, terms=terms)  # room for one place
    assert [asks for _, asks in answers.asked] == [[("酉島。", "はい")]]
    assert out[1].text == "はい酉島の実家から"
    answers = Answers(_says("はい酉島の実家から"), _says("その集計です"))
    _run([half, alike], answers, places=10, terms=terms)  # with room, the other place is asked next
    assert [asks for _, asks in answers.asked] == [[("酉島。", "はい")], [("十三。", "その")]]


def test_a_far_less_likely_suspect_beside_a_likely_one_is_not_asked_about() -> None:
    terms = [Term("市府民税", "しふみんぜい"), Term("十三", "じゅうそう")]
    segment = _segment(0.0, ["し", "不", "民税", "の", "集計"])  # し不民税: 市府民税; 集計 half like 十三
    answers = Answers(_says("市府民税の集計"))
    out, _ = _run([segment], answers, terms=terms)
    assert [prompt for prompt, _ in answers.asked[0][1]] == ["市府民税。"]  # each ask is one more decode
    assert out[0].text == "市府民税の集計"


@pytest.mark.slow
def test_the_real_recogniser_goes_on_from_the_words_before(pipeline: Pipeline, speech: np.ndarray) -> None:
    # ja_single says 「それでは定刻になりましたので、会議を開会いたします。本日の議題は、来年度の予算についてです。」
    before = [
        "それでは定刻になりましたので、",
        "それでは定刻になりましたので、会議を開会いたします。本日の議題は、来年度の",
    ]
    answers = pipeline.recognizer.continuations(speech, [("予算。", prefix) for prefix in before], 4, "ja")
    assert answers[0].startswith("会議") and answers[1].startswith("予算")
    assert all(len(answer) <= 8 for answer in answers)  # a few tokens, not the rest of the recording


def test_a_term_heard_exactly_is_asked_about_beside_a_likelier_one() -> None:
    words = _words(0.0, ["つい", "契約", "で", "取り", "島", "の", "件"])
    sureness = [0.1, 0.1, 0.5, 0.88, 0.88, 0.5, 0.5]  # 取り島 fairly sure: far less worth asking on its own
    words = [w.model_copy(update={"confidence": c}) for w, c in zip(words, sureness, strict=True)]
    segment = Segment(start=0.0, end=words[-1].end, text="つい契約で取り島の件", words=words)
    likely = Suspect(TERMS[0], 0, 4, 0.95)
    exact = Suspect(TERMS[2], 5, 8, 1.0)  # 取り島 sounds exactly like 酉島
    loose = Suspect(Term("鳥の", "とりの"), 5, 9, 0.8)  # as unsure, but only sounds somewhat alike
    assert _piece(0, segment, [likely, exact, loose]).suspects == [likely, exact]

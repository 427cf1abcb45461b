"""Second opinions: a term is taken from the recogniser only where it writes it, and nothing else changes."""

from __future__ import annotations

import numpy as np
import pytest

from dictionaries.correction import Corrector
from dictionaries.terms import Term
from transcriber import biasing
from transcriber.asr import RecognizedSegment
from transcriber.biasing import TermRedecoder
from transcriber.terminology import apply_terms
from transcriber.transcript import Correction, Segment, Word
from transcriber.vad import Span

AUDIO = np.zeros(16000 * 40, dtype=np.float32)
TERMS = [Term("随意契約", "ずいいけいやく"), Term("杭全", "くまた"), Term("酉島", "とりしま")]


def _words(start: float, pieces: list[str]) -> list[Word]:
    return [Word(start=start + k / 2, end=start + k / 2 + 0.4, text=p, confidence=0.5) for k, p in enumerate(pieces)]


def _segment(start: float, pieces: list[str]) -> Segment:
    words = _words(start, pieces)
    return Segment(start=words[0].start, end=words[-1].end, text="".join(pieces), words=words)


class Answers:
    """Stands in for Whisper: what it says for each packed window, in order; records what it was asked.

    Each answer is a list of (seconds into the window, words) so packed utterances can be told apart.
    """

    def __init__(self, *answers: list[tuple[float, list[str]]]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[float, str]] = []

    def decode_window(self, audio: np.ndarray, window: Span, prompt: str) -> list[RecognizedSegment]:
        self.asked.append((len(audio) / 16000, prompt))
        out = []
        for at, pieces in self.answers.pop(0):
            words = _words(window.start + at, pieces)
            out.append(RecognizedSegment(words[0].start, words[-1].end, "".join(pieces), words, -0.2, 0.01, 1.2))
        return out


def _run(segments: list[Segment], answers: Answers, budget: float = 10.0) -> tuple[list[Segment], list[Correction]]:
    corrector = Corrector(TERMS)
    fixed, corrections = apply_terms(segments, corrector)
    return TermRedecoder(corrector, answers).run(AUDIO, fixed, corrections, budget, window_cost=1.0)


def test_only_the_confirmed_stretch_becomes_the_term() -> None:
    segments = [
        _segment(0.0, ["クマタ", "の", "交差点", "です。"]),
        _segment(3.0, ["つい", "契約", "で", "進め", "たい", "んです", "けど"]),
    ]
    # The second opinion also "hears" other words differently: only the term is taken.
    answers = Answers([(0.15, ["えっと", "随意", "契約", "で", "進め", "たい", "んです", "けど。"])])
    out, corrections = _run(segments, answers)
    assert out[1].text == "随意契約で進めたいんですけど"
    assert answers.asked[0][1] == "随意契約。"  # the suspected term, as if said just before
    redecoded = [c for c in corrections if c.rule == "redecode"]
    assert [(c.segment, c.before, c.after, c.term) for c in redecoded] == [(1, "つい契約", "随意契約", "随意契約")]
    assert out[1].text[redecoded[0].start : redecoded[0].end] == "随意契約"
    # the reading correction in the first utterance is kept as it was
    assert out[0].text == "杭全の交差点です。" and any(c.rule == "reading" and c.segment == 0 for c in corrections)
    # word timings stay the first pass's: the term spans the two words it replaced
    assert [(w.text, w.start, w.end) for w in out[1].words[:2]] == [("随意契約", 3.0, 3.9), ("で", 4.0, 4.4)]


def test_nothing_changes_when_the_recogniser_keeps_its_first_answer() -> None:
    segments = [_segment(0.0, ["つい", "契約", "で", "進め", "たい"])]
    out, corrections = _run(segments, Answers([(0.15, ["つい", "契約", "で", "進め", "たい。"])]))
    assert out == segments and corrections == []


def test_a_prompt_written_back_alone_is_refused() -> None:
    segments = [_segment(0.0, ["つい", "契約", "で", "進め", "たい", "んです", "けど"])]
    out, _ = _run(segments, Answers([(0.15, ["随意", "契約。"])]))
    assert out == segments


def test_numbers_stay_the_first_pass_s() -> None:
    segments = [_segment(0.0, ["つい", "契約", "は", "1,400", "円", "です"])]
    out, _ = _run(segments, Answers([(0.15, ["随意", "契約", "は", "1,500", "円", "です"])]))
    assert out[0].text == "随意契約は1,400円です"


def test_suspected_utterances_are_decoded_together_and_told_apart() -> None:
    first = _segment(0.0, ["つい", "契約", "で", "進め", "たい"])  # 0.0–2.4 s
    second = _segment(10.0, ["はい", "取り", "島", "の", "実家", "から"])  # 10.0–12.9 s
    # Packed: the first utterance (with 0.15 s after it; none before 0 s) is 2.55 s, the second follows.
    answers = Answers([(0.15, ["随意", "契約", "で", "進め", "たい"]), (3.45, ["はい", "酉島", "の", "実家", "から"])])
    out, corrections = _run([first, second], answers)
    assert len(answers.asked) == 1 and 5.0 < answers.asked[0][0] < 6.5
    assert set(answers.asked[0][1].rstrip("。").split("、")) == {"随意契約", "酉島"}
    assert [s.text for s in out] == ["随意契約で進めたい", "はい酉島の実家から"]
    assert [c.segment for c in corrections] == [0, 1]


def test_windows_are_decoded_only_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(biasing, "MAX_PACK", 5.0)  # windows of 5 s: the two utterances cannot share one
    first = _segment(0.0, ["つい", "契約", "で", "進め", "たい"])
    second = _segment(25.0, ["はい", "取り", "島", "の", "実家", "から"])
    toriyama = [(0.15, ["はい", "酉島", "の", "実家", "から"])]
    zuii = [(0.15, ["随意", "契約", "で", "進め", "たい"])]
    answers = Answers(toriyama, zuii)
    out, _ = _run([first, second], answers, budget=0.5)  # a window is guessed to take 1 s: none
    assert answers.asked == [] and [s.text for s in out] == ["つい契約で進めたい", "はい取り島の実家から"]
    out, _ = _run([first, second], answers, budget=1.0)  # one (a second would pass 1 s): the more term-like, 酉島
    assert len(answers.asked) == 1 and [s.text for s in out] == ["つい契約で進めたい", "はい酉島の実家から"]
    answers = Answers(toriyama, zuii)
    out, _ = _run([first, second], answers, budget=10.0)
    assert len(answers.asked) == 2 and [s.text for s in out] == ["随意契約で進めたい", "はい酉島の実家から"]


def test_a_long_utterance_is_decoded_again_only_around_the_suspect() -> None:
    pieces = ["えー", "本日", "は", "各", "地域", "の", "状況", "を", "報告", "し", "ます", "つい", "契約"]
    pieces += ["の", "収集", "について", "です", "が", "昨年", "より", "増え", "て", "おり", "ます"]
    segment = _segment(0.0, pieces)  # 24 words, 12 s; つい契約 at 5.5–6.4 s
    answers = Answers([(0.15, ["報告", "し", "ます", "随意", "契約", "の", "収集", "について", "です"])])
    out, _ = _run([segment], answers)
    assert 5.5 < answers.asked[0][0] < 7.0  # 2.5 s either side, cut at words, not the whole 12 s
    assert out[0].text == "".join(pieces).replace("つい契約", "随意契約")


def test_stretches_whisper_stopped_before_get_another_window() -> None:
    first = _segment(0.0, ["つい", "契約", "で", "進め", "たい"])
    second = _segment(10.0, ["はい", "取り", "島", "の", "実家", "から"])
    # The first window: Whisper writes only the first stretch and stops; the second gets its own.
    zuii, toriyama = ["随意", "契約", "で", "進め", "たい"], ["はい", "酉島", "の", "実家", "から"]
    answers = Answers([(0.15, zuii)], [(0.15, toriyama)])
    out, _ = _run([first, second], answers)
    assert len(answers.asked) == 2 and [s.text for s in out] == ["随意契約で進めたい", "はい酉島の実家から"]

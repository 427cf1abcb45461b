"""Second opinions: a term is taken from the recogniser only when it writes it, and nothing else breaks."""

from __future__ import annotations

import numpy as np

from dictionaries.correction import Corrector
from dictionaries.terms import Term
from transcriber.asr import RecognizedSegment
from transcriber.biasing import TermRedecoder
from transcriber.terminology import apply_terms
from transcriber.transcript import Correction, Segment, Word
from transcriber.vad import Span

AUDIO = np.zeros(16000 * 20, dtype=np.float32)
TERMS = [Term("粗大ごみ", "そだいごみ"), Term("杭全", "くまた"), Term("酉島", "とりしま")]


def _words(start: float, pieces: list[str]) -> list[Word]:
    return [Word(start=start + k / 2, end=start + k / 2 + 0.4, text=p, confidence=0.5) for k, p in enumerate(pieces)]


def _segment(start: float, pieces: list[str]) -> Segment:
    words = _words(start, pieces)
    return Segment(start=words[0].start, end=words[-1].end, text="".join(pieces), words=words)


class Answers:
    """Stands in for Whisper: what it says for a window, given the prompt; records what it was asked."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[Span, str]] = []

    def decode_window(self, audio: np.ndarray, window: Span, prompt: str) -> list[RecognizedSegment]:
        self.asked.append((window, prompt))
        pieces = self.answers.pop(0)
        words = _words(window.start, pieces)
        return [RecognizedSegment(window.start, window.end, "".join(pieces), words, -0.2, 0.01, 1.2)]


def _run(segments: list[Segment], answers: Answers, budget: float = 10.0) -> tuple[list[Segment], list[Correction]]:
    corrector = Corrector(TERMS)
    fixed, corrections = apply_terms(segments, corrector)
    return TermRedecoder(corrector, answers).run(AUDIO, fixed, corrections, budget)


def test_the_term_is_taken_when_the_recogniser_writes_it() -> None:
    segments = [
        _segment(0.0, ["クマタ", "の", "交差点", "です。"]),
        _segment(3.0, ["あの", "古代", "ゴミ", "を", "出し", "たい", "んです", "けど"]),
    ]
    answers = Answers(["あの", "粗大", "ごみ", "を", "出し", "たい", "んです", "けど。"])
    out, corrections = _run(segments, answers)
    assert out[1].text == "あの粗大ごみを出したいんですけど。"
    assert answers.asked[0][1] == "粗大ごみ。"  # the suspected term, as the text said before
    assert answers.asked[0][0].start < 3.0 < 6.9 < answers.asked[0][0].end  # the whole utterance
    redecoded = [c for c in corrections if c.rule == "redecode"]
    assert len(redecoded) == 1 and redecoded[0].segment == 1 and redecoded[0].term == "粗大ごみ"
    assert out[1].text[redecoded[0].start : redecoded[0].end] == redecoded[0].after
    assert redecoded[0].before == "あの古代ゴミを出したいんですけど"  # what undo puts back
    # the reading correction in the first utterance is kept as it was
    assert out[0].text == "杭全の交差点です。" and any(c.rule == "reading" and c.segment == 0 for c in corrections)
    assert all(w.start >= 3.0 - 0.2 for w in out[1].words)


def test_nothing_changes_when_the_recogniser_keeps_its_first_answer() -> None:
    segments = [_segment(0.0, ["もしもし", "古代", "ゴミ", "を", "出し", "たい"])]
    out, corrections = _run(segments, Answers(["もしもし", "古代", "ゴミ", "を", "出し", "たい。"]))
    assert out == segments and corrections == []


def test_a_prompt_written_back_alone_is_refused() -> None:
    segments = [_segment(0.0, ["もしもし", "古代", "ゴミ", "を", "出し", "たい", "んです", "けど"])]
    out, _ = _run(segments, Answers(["粗大", "ごみ。"]))
    assert out == segments


def test_numbers_are_never_traded_for_a_term() -> None:
    segments = [_segment(0.0, ["古代", "ゴミ", "は", "1,400", "円", "です"])]
    out, _ = _run(segments, Answers(["粗大", "ごみ", "は", "1,500", "円", "です"]))
    assert out == segments


def test_no_budget_no_second_opinions() -> None:
    segments = [_segment(0.0, ["はい", "取り", "島", "の", "実家", "から"])]
    answers = Answers(["はい", "酉島", "の", "実家", "から"])
    out, _ = _run(segments, answers, budget=0.0)
    assert out == segments and answers.asked == []

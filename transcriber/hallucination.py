"""Places where the recogniser may have invented the text, flagged for the clerk to check.

Whisper learnt from subtitled video. Over silence or noise it writes what subtitles say at such
moments (「ご視聴ありがとうございました」, 「チャンネル登録お願いします」, subtitle credits), makes up
sentences, or loops on a phrase. Nothing is deleted here: each doubtful segment gets one ``Flag``
and the clerk decides with the audio (review mode in the editor).

What the pipeline already removes before this runs (unchanged, see transcriber.pipeline):
a short segment that is nothing but a stock caption (``japanese_text.is_caption``) is dropped,
and a phrase looped three or more times is cut to one copy (``collapse_repeated_words``); the
loop is still flagged here, from the recogniser's raw words, so the clerk hears that place.

The evidence holds for any Japanese recording, not for particular files:

- **speech**: the share of the segment's time in which the speech detector (webrtcvad with an
  energy floor) heard a voice. Text where it heard none was not spoken.
- **the recogniser's doubt**: the mean probability of the segment's words. Over noise the
  decoder writes words it does not believe; over speech, even hard speech, it mostly does.
  Whisper's ``no_speech_prob`` above its own 0.6 backs up middling probabilities, and its
  ``compression_ratio`` above 2.4 (Whisper's own test for a failed decoding) means a loop. Both
  come per 30 s window, not per sentence, so they are too coarse to decide alone; ``avg_logprob``
  (also per window) is kept in the evidence for inspection but decides nothing: on the dev set
  a window with invented text had the same value as windows of clean speech.
- **the text**: stock caption phrases; the same phrase three or more times in a row; the same
  sentence again in the next segment of the same speaker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from transcriber.asr import RecognizedSegment
from transcriber.japanese_text import word_loops_at
from transcriber.transcript import Flag, Segment, Word
from transcriber.vad import Span

Kind = Literal["repetition", "silence", "caption"]

REASON_CAPTION = "動画の字幕によくある定型文です。実際に話されたか確認してください"
REASON_SILENCE = "無音・雑音の区間に文字があります"
REASON_DOUBT = "雑音を言葉と聞き違えた可能性があります(認識の確からしさが低い)"
REASON_LOOP = "同じ言葉が何度も繰り返されています"
REASON_LOOP_CUT = "同じ言葉が何度も繰り返されていたため1回分にまとめました"
REASON_DUPLICATE = "直前と同じ文が繰り返されています"

# Subtitle phrases no city meeting or call says: flagged wherever they appear.
_CAPTIONS = [
    re.compile(p)
    for p in (
        r"ご?視聴(いただき|頂き|して(くださ|下さ)り)?(ありがとう|有難う|有り難う)",
        r"チャンネル登録",
        r"高評価",
        r"字幕(作成|制作|提供|翻訳|協力|by|:)",
        r"(次回|次)の動画",
        r"この動画",
        r"ご覧(いただき|頂き)(ありがとう|有難う)",
        r"最後までご覧",
        r"提供[:]",
    )
]
# Phrases people do say, but which Whisper also writes over silence: flagged only as the whole
# segment and only when the speech evidence is weak too.
_WEAK_CAPTIONS = re.compile(r"^(どうも)?(ありがとうございました|おやすみなさい|お疲れ様でした|またね|バイバイ)$")
_PUNCT = re.compile(r"[\s、。,.!?！？・「」『』()（）…〜~―-]")  # ー is part of words: kept


@dataclass(frozen=True)
class Rules:
    """Thresholds, each with the reason it has the value it has."""

    # Less than half the segment's time with a voice in it: most of the text lies over silence.
    min_speech_share: float = 0.5
    # Word timings are approximate (±0.2 s); speech this close to a segment counts as under it.
    speech_reach: float = 0.2
    # Mean word probability below this: the decoder did not believe its own words. Correct speech,
    # even on the telephone, stays well above it; text made up from noise falls below it.
    min_word_probability: float = 0.35
    # One or two words are too little to judge by: the first word of a sentence often has a low
    # probability, and a speaker change can cut it off on its own. Such a short segment is judged
    # by all the words of the recogniser's segment it came from.
    min_words: int = 3
    # Whisper's own no-speech test (faster-whisper skips a window above 0.6 with avg_logprob
    # below -1): a kept window above it, with doubtful words, is noise.
    no_speech_prob: float = 0.6
    doubtful_word_probability: float = 0.5
    # Whisper retries a window whose text compresses better than this; one kept above it looped.
    max_compression_ratio: float = 2.4
    # A loop: a unit of at least 3 characters 3+ times in a row (はい、はい、はい is speech), or any
    # unit 6+ times. Digits are never a loop (100000000円).
    loop_min_unit: int = 3
    loop_min_repeats: int = 3
    loop_any_repeats: int = 6
    # The same sentence twice in a row from one speaker: only sentences, not はい or そうですね.
    duplicate_min_chars: int = 6


@dataclass(frozen=True)
class Evidence:
    """What is known about one segment; kept separate from the decision so it can be inspected."""

    speech_share: float  # 0–1 of the segment's time with detected speech
    word_probability: float | None  # mean over its words (its recogniser segment's if it has few)
    no_speech_prob: float | None  # of the recogniser's window that produced the segment
    avg_logprob: float | None
    compression_ratio: float | None


def core_text(text: str) -> str:
    """The text as compared: NFKC, without punctuation and spaces."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text))


def caption_phrase(text: str) -> str | None:
    """``"strong"`` for a subtitle phrase, ``"weak"`` for a whole-segment closing phrase, else None."""
    core = core_text(text)
    if any(p.search(core) for p in _CAPTIONS):
        return "strong"
    if _WEAK_CAPTIONS.match(core):
        return "weak"
    return None


def _is_loop(unit: str, repeats: int, rules: Rules) -> bool:
    if not unit or unit.isdigit():
        return False
    return (len(unit) >= rules.loop_min_unit and repeats >= rules.loop_min_repeats) or repeats >= rules.loop_any_repeats


def has_loop(text: str, rules: Rules | None = None) -> bool:
    """Whether a phrase repeats back to back often enough to be the decoder looping."""
    rules = rules or Rules()
    core = core_text(text)
    for size in range(1, len(core) // 2 + 1):  # equivalent mutants (1): a longer unit has no room to repeat
        for first in range(len(core) - 2 * size + 1):  # equivalent mutants (1): one more start has no 2nd copy
            unit = core[first : first + size]
            repeats = 1
            while core[first + repeats * size : first + (repeats + 1) * size] == unit:
                repeats += 1
            if _is_loop(unit, repeats, rules):
                return True
    return False


def word_loops(words: Sequence[Word], rules: Rules | None = None) -> list[Span]:
    """Time spans where the recogniser's words loop (1–12 words repeated back to back)."""
    rules = rules or Rules()
    runs = word_loops_at([core_text(w.text) for w in words], lambda unit, repeats: _is_loop(unit, repeats, rules))
    spans = []
    for first, size, repeats in runs:
        last = words[first + repeats * size - 1]
        spans.append(Span(words[first].start, max(words[first].start, last.end)))
    return spans


def _merged(spans: Sequence[Span], reach: float) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        start, end = span.start - reach, span.end + reach
        if merged and start <= merged[-1].end:  # equivalent mutants (1): touching spans cover the same time
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, end))
        else:
            merged.append(Span(start, end))
    return merged


def speech_share(start: float, end: float, speech: Sequence[Span]) -> float:
    """The share of [start, end] covered by ``speech`` (merged, sorted spans); a point: 0 or 1."""
    if end - start < 1e-3:
        return 1.0 if any(s.start <= start <= s.end for s in speech) else 0.0
    covered = sum(max(0.0, min(end, s.end) - max(start, s.start)) for s in speech)
    return min(1.0, covered / (end - start))  # equivalent mutants (1): merged spans never cover more than 1


def _overlap(a_start: float, a_end: float, b: Span | RecognizedSegment) -> float:
    return min(a_end, b.end) - max(a_start, b.start)


def _window_of(segment: Segment, decoded: Sequence[RecognizedSegment]) -> RecognizedSegment | None:
    """The recogniser's segment that produced most of this one (by time)."""
    best = max(decoded, key=lambda d: _overlap(segment.start, segment.end, d), default=None)
    if best is None or _overlap(segment.start, segment.end, best) < 0:  # no window under it at all
        return None
    return best


def gather_evidence(
    segments: Sequence[Segment], speech: Sequence[Span], decoded: Sequence[RecognizedSegment], rules: Rules
) -> list[Evidence]:
    voiced = _merged(speech, rules.speech_reach)
    evidence = []
    for segment in segments:
        window = _window_of(segment, decoded)
        words = segment.words if len(segment.words) >= rules.min_words or window is None else window.words
        probabilities = [w.confidence for w in words if w.confidence is not None]
        evidence.append(
            Evidence(
                speech_share=speech_share(segment.start, segment.end, voiced),
                word_probability=sum(probabilities) / len(probabilities) if probabilities else None,
                no_speech_prob=window.no_speech_prob if window else None,
                avg_logprob=window.avg_logprob if window else None,
                compression_ratio=window.compression_ratio if window else None,
            )
        )
    return evidence


def _weak_speech(e: Evidence, rules: Rules) -> str | None:
    """Why the segment looks unspoken, or None."""
    if e.speech_share < rules.min_speech_share:
        return REASON_SILENCE
    if e.word_probability is not None:
        if e.word_probability < rules.min_word_probability:
            return REASON_DOUBT
        if (
            e.no_speech_prob is not None
            and e.no_speech_prob >= rules.no_speech_prob
            and e.word_probability < rules.doubtful_word_probability
        ):
            return REASON_DOUBT
    return None


def _repetition(
    index: int, segments: Sequence[Segment], e: Evidence, cut_loops: Sequence[Span], rules: Rules
) -> str | None:
    segment = segments[index]
    if has_loop(segment.text, rules):
        return REASON_LOOP
    if any(_overlap(segment.start, segment.end, loop) >= 0 for loop in cut_loops):
        return REASON_LOOP_CUT
    if e.compression_ratio is not None and e.compression_ratio > rules.max_compression_ratio:
        return REASON_LOOP
    if index > 0:
        before = segments[index - 1]
        core = core_text(segment.text)
        if (
            before.speaker == segment.speaker
            and len(core) >= rules.duplicate_min_chars
            and core_text(before.text) == core
        ):
            return REASON_DUPLICATE
    return None


def find_flags(
    segments: Sequence[Segment],
    speech: Sequence[Span],
    decoded: Sequence[RecognizedSegment] = (),
    rules: Rules | None = None,
) -> list[Flag]:
    """One flag for each doubtful segment, in segment order.

    ``speech``: where the speech detector heard a voice; ``decoded``: the recogniser's own
    segments before cleaning (their words still hold any loop the pipeline cut). A segment gets
    the first that applies of: caption, repetition, silence (text over silence or noise).
    """
    rules = rules or Rules()
    evidence = gather_evidence(segments, speech, decoded, rules)
    cut_loops = [loop for d in decoded for loop in word_loops(d.words, rules)]
    flags = []
    for index, (segment, e) in enumerate(
        zip(segments, evidence, strict=True)  # equivalent mutants (3): one evidence per segment, any strict=
    ):
        if not core_text(segment.text):
            continue
        unspoken = _weak_speech(e, rules)
        caption = caption_phrase(segment.text)
        kind: Kind | None = None  # equivalent mutants (1): kind and reason are only ever set together
        reason: str | None = None  # equivalent mutants (1): kind and reason are only ever set together
        if caption == "strong" or (caption == "weak" and unspoken):
            kind, reason = "caption", REASON_CAPTION
        elif repeated := _repetition(index, segments, e, cut_loops, rules):
            kind, reason = "repetition", repeated
        elif unspoken:
            kind, reason = "silence", unspoken
        if kind is not None and reason is not None:  # equivalent mutants (1): both are set, or neither
            flags.append(
                Flag(segment=index, start=segment.start, end=segment.end, kind=kind, text=segment.text, reason=reason)
            )
    return flags


def repoint_flags(flags: Sequence[Flag], segments: Sequence[Segment]) -> list[Flag]:
    """Flags pointed at the segments that now hold their time (after utterances are cut anew)."""
    moved = []
    for flag in flags:
        index = max(
            range(len(segments)),
            key=lambda i: (_overlap(flag.start, flag.end, Span(segments[i].start, segments[i].end)), -i),
            default=None,
        )
        if index is not None:
            moved.append(flag.model_copy(update={"segment": index}))
    return moved

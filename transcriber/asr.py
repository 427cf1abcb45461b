"""faster-whisper recognition of the planned clips, with word timings and confidences."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from transcriber.audio import SAMPLE_RATE
from transcriber.device import DevicePlan
from transcriber.errors import ModelMissing
from transcriber.model_store import HOW_TO_PROVIDE
from transcriber.transcript import Word
from transcriber.vad import Span

if TYPE_CHECKING:
    from faster_whisper.tokenizer import Tokenizer

log = logging.getLogger(__name__)

# Whisper reads 448 tokens of text: up to half for the prompt, as in its training, and the rest
# for the words already written in the window.
_PROMPT_TOKENS = 223
_PREFIX_TOKENS = 200
_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: Whisper's window
_SHORTEST_FRAMES = 1500  # what a second opinion's stretch is padded to


@dataclass(frozen=True)
class AsrOptions:
    language: str | None = "ja"  # None: detected on the first clip
    beam_size: int = 5
    # Whisper falls back to sampling at higher temperatures where beam search loops or stalls; a
    # fixed seed per recording makes the same audio give the same text on every run.
    seed: int = 20261123


@dataclass(frozen=True)
class RecognizedSegment:
    start: float
    end: float
    text: str
    words: list[Word]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def _max_length(head: int, wanted: int) -> int:
    """CTranslate2's ``max_length`` for ``wanted`` tokens of text after the start sequence.

    Measured with CTranslate2 4.x: a Whisper result holds at most half of ``max_length`` tokens
    (the forced prefix included), whatever the prompt's length; the sum is asked too in case a
    release counts as documented.
    """
    return min(448, max(2 * wanted, head + wanted))


def load_whisper(model: str, plan: DevicePlan):  # type: ignore[no-untyped-def]
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(model, device=plan.device, compute_type=plan.compute_type, cpu_threads=plan.cpu_threads)
    except (RuntimeError, OSError, ValueError) as exc:
        log.error("loading ASR model %s failed: %s", model, exc)
        raise ModelMissing(f"{model}: {exc}. " + HOW_TO_PROVIDE) from exc
    except Exception as exc:  # hub errors when a name cannot be fetched offline
        log.error("loading ASR model %s failed: %r", model, exc)
        raise ModelMissing(f"{model}. " + HOW_TO_PROVIDE) from exc


def _convert(segment, offset: float) -> RecognizedSegment:  # type: ignore[no-untyped-def]
    words = [
        Word(
            start=round(offset + w.start, 3),
            end=round(offset + max(w.end, w.start), 3),
            text=w.word,
            confidence=round(float(min(1.0, max(0.0, w.probability))), 3),
        )
        for w in (segment.words or [])
    ]
    return RecognizedSegment(
        start=round(offset + segment.start, 3),
        end=round(offset + segment.end, 3),
        text=segment.text,
        words=words,
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        compression_ratio=float(segment.compression_ratio),
    )


class Recognition:
    """One pass of the recogniser over stretches of a recording, as :meth:`Recognizer.transcribe`
    returns it (faster-whisper's segments and ``TranscriptionInfo`` in one value).

    Iterated, it decodes: the segments come out in time order, and the pass can be iterated only
    once (as a generator). What the pass finds out is kept here, filled in as the decoding goes
    and final when the iteration ends, never on the recogniser, which serves every recording and
    every pass over one (skipped stretches, each channel).
    """

    def __init__(
        self, decode: Callable[[Recognition], Iterator[RecognizedSegment]], language: str | None = None
    ) -> None:
        # Fixed by the options, or detected on the pass's first stretch (None until then).
        self.language = language
        # Windows (30 s encoder passes) decoded: the pass's work in units that do not depend on
        # how busy the machine is.
        self.windows = 0
        self._segments = decode(self)  # a generator: nothing is decoded before the iteration

    def __iter__(self) -> Iterator[RecognizedSegment]:
        return self._segments


class Recognizer:
    """Wraps one loaded Whisper model; reusable across recordings (the worker keeps one)."""

    def __init__(self, model_path: str, plan: DevicePlan, options: AsrOptions | None = None) -> None:
        self.model_path = model_path
        self.plan = plan
        self.options = options or AsrOptions()
        self._model = load_whisper(model_path, plan)
        self._tokenizer: Tokenizer | None = None  # for second opinions; remade when the language changes

    @property
    def batched(self) -> bool:
        return self.plan.batch_size > 1

    def transcribe(self, audio: np.ndarray, stretches: list[Span], context: str | None = None) -> Recognition:
        """A pass over the stretches: iterated, it recognises each one and gives the segments in
        time order as they are decoded; afterwards it holds the pass's language and windows.
        ``context`` (the recording's title, agenda, attendees: :mod:`transcriber.context`) is
        Whisper's initial prompt, as if it had been said just before each stretch.

        Sequential (CPU): each stretch is a run of speech decoded as plain Whisper decodes a
        file, window after window, each conditioned on the text before it. Batched (GPU): each
        stretch is one ≤ 30 s clip and clips are decoded together.
        """
        return Recognition(lambda into: self._decode(audio, stretches, into, context or None), self.options.language)

    def _decode(
        self, audio: np.ndarray, stretches: list[Span], into: Recognition, context: str | None
    ) -> Iterator[RecognizedSegment]:
        import ctranslate2

        ctranslate2.set_random_seed(self.options.seed)
        if self.batched:
            yield from self._batched(audio, stretches, into, context)
        else:
            yield from self._sequential(audio, stretches, into, context)

    def _sequential(
        self, audio: np.ndarray, runs: list[Span], into: Recognition, context: str | None
    ) -> Iterator[RecognizedSegment]:
        for run in runs:
            piece = audio[int(run.start * SAMPLE_RATE) : int(run.end * SAMPLE_RATE)]
            segments, info = self._model.transcribe(
                piece,
                language=into.language,
                beam_size=self.options.beam_size,
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=True,
                initial_prompt=context,
            )
            into.language = into.language or info.language
            windows: set[int] = set()  # a window's segments share the frame it started at
            for segment in segments:
                if segment.seek not in windows:
                    windows.add(segment.seek)
                    into.windows += 1
                yield _convert(segment, run.start)

    def _text_tokenizer(self, language: str) -> Tokenizer:
        from faster_whisper.tokenizer import Tokenizer

        if self._tokenizer is None or self._tokenizer.language_code != language:
            model = self._model
            self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, "transcribe", language)
        return self._tokenizer

    def count_tokens(self, text: str, language: str) -> int:
        """How many tokens Whisper needs to write ``text`` in ``language``."""
        return len(self._text_tokenizer(language).encode(text))

    def continuations(
        self, audio: np.ndarray, asks: list[tuple[str, str]], max_tokens: int, language: str
    ) -> list[str]:
        """What Whisper writes next after each ``(prompt, prefix)``, hearing ``audio`` (up to 30 s)
        in ``language`` with ``prompt`` as the text said before it and ``prefix`` as the window's
        words so far.

        Whisper leans towards words it has just "seen", so with a term in the prompt it writes the
        term where it was said and keeps its first answer where it was not (see
        transcriber.biasing). One encoder pass serves every ask; each answer is a few greedy tokens.
        """
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        if not asks:
            return []
        model = self._model
        tokenizer = self._text_tokenizer(language)
        mel = model.feature_extractor(audio)
        # The encoder reads as many frames as it is given; a short stretch padded to 15 s rather
        # than Whisper's 30 s costs a third as much (attention is quadratic in length). Measured on
        # the dev set's places: 5 and 7.5 s lost terms; 10 s confirmed the same 12 as 15 s in 23 %
        # less time, but missed 淀川左岸線 (予讼側下岩先) that 15 s gave; 30 s found no more.
        frames = min(_WINDOW_FRAMES, max(_SHORTEST_FRAMES, -(-mel.shape[-1] // 100) * 100))
        features = np.expand_dims(pad_or_trim(mel, frames), 0)
        # Encoded once, on the CPU side so it can be repeated for a batch of asks.
        encoded = np.array(model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=True))
        opening = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        starts = [
            [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())[-_PROMPT_TOKENS:], *opening]
            for prompt, _ in asks
        ]
        bodies = [tokenizer.encode(prefix)[-_PREFIX_TOKENS:] for _, prefix in asks]
        # Asked together only where prompts and prefixes are of one length: CTranslate2 needs the
        # start of transcript at one place, and a batch runs until its longest prefix has had
        # ``max_tokens`` more, so a short prefix beside a long one would pay for a full decode.
        groups: dict[tuple[int, int], list[int]] = {}
        for index, (start, body) in enumerate(zip(starts, bodies, strict=True)):
            groups.setdefault((len(start), len(body)), []).append(index)
        texts: dict[int, str] = {}
        for (head, length), indexes in groups.items():
            results = model.model.generate(
                ctranslate2.StorageView.from_array(np.repeat(encoded, len(indexes), axis=0)),
                [starts[i] + bodies[i] for i in indexes],
                beam_size=1,
                max_length=_max_length(head, length + max_tokens),
                suppress_blank=False,
            )
            for i, result in zip(indexes, results, strict=True):
                new = [t for t in result.sequences_ids[0][length:] if t < tokenizer.eot]
                # A token cut off mid-character decodes to U+FFFD.
                texts[i] = tokenizer.decode(new).replace("\ufffd", "")
        return [texts[i] for i in range(len(asks))]

    def _batched(
        self, audio: np.ndarray, clips: list[Span], into: Recognition, context: str | None
    ) -> Iterator[RecognizedSegment]:
        """GPU path: clips decoded in batches (no text conditioning between them).

        Clips go to faster-whisper a few batches at a time so progress is reported as they finish.
        """
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(self._model)
        group = self.plan.batch_size * 4
        for first in range(0, len(clips), group):
            part = clips[first : first + group]
            segments, info = pipeline.transcribe(
                audio,
                language=into.language,
                beam_size=self.options.beam_size,
                word_timestamps=True,
                without_timestamps=False,
                batch_size=self.plan.batch_size,
                clip_timestamps=[{"start": c.start, "end": c.end} for c in part],
                initial_prompt=context,
            )
            into.language = into.language or info.language
            into.windows += len(part)
            for segment in segments:
                yield _convert(segment, 0.0)

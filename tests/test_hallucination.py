"""Flags on text the recogniser may have invented: captions, loops, text over silence or noise.

The unit cases build segments as the pipeline hands them over (words with probabilities, where
the speech detector heard a voice, the recogniser's own segments); the last test runs the real
``kiroku transcribe`` on speech followed by noise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DIALOGUE, ENCODINGS, SINGLE, encode, load_pcm, run_kiroku
from transcriber.asr import Recognition, RecognizedSegment
from transcriber.audio import SAMPLE_RATE
from transcriber.hallucination import REASON_SILENCE, find_flags, has_loop, repoint_flags
from transcriber.pipeline import Pipeline
from transcriber.relabel import relabel
from transcriber.transcript import Flag, Segment, SpeakerTurn, Transcript, Word
from transcriber.vad import Span


def _segment(text: str, start: float, end: float, probability: float | None = 0.9, speaker: str = "S1") -> Segment:
    """A segment whose words share its time evenly (one word per 4 characters)."""
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
    step = (end - start) / len(pieces)
    words = [
        Word(start=round(start + k * step, 3), end=round(start + (k + 1) * step, 3), text=p, confidence=probability)
        for k, p in enumerate(pieces)
    ]
    return Segment(start=start, end=end, speaker=speaker, text=text, words=words)


def _decoded(segment: Segment, no_speech: float = 0.05, logprob: float = -0.3, ratio: float = 1.3) -> RecognizedSegment:
    return RecognizedSegment(
        start=segment.start,
        end=segment.end,
        text=segment.text,
        words=segment.words,
        avg_logprob=logprob,
        no_speech_prob=no_speech,
        compression_ratio=ratio,
    )


SPEECH = [Span(0.0, 10.0), Span(40.0, 50.0)]  # a voice for 10 s, 30 s of silence, a voice again


def test_caption_phrase_over_silence_is_flagged_and_kept() -> None:
    speech = _segment("本日の会議を終わります。", 6.0, 9.5)
    caption = _segment("ご視聴ありがとうございました。チャンネル登録もよろしくお願いします。", 20.0, 24.0, 0.8)
    segments = [speech, caption]
    flags = find_flags(segments, SPEECH, [_decoded(s) for s in segments])
    assert [(f.segment, f.kind) for f in flags] == [(1, "caption")]
    flag = flags[0]
    assert flag.text == caption.text and (flag.start, flag.end) == (20.0, 24.0)
    assert flag.reason  # a Japanese explanation the clerk reads
    assert len(segments) == 2  # only flagged: the text stays for the clerk to decide


def test_ordinary_sentence_with_speech_is_not_flagged() -> None:
    segments = [
        _segment("それでは定刻になりましたので、会議を開会いたします。", 0.5, 4.5),
        _segment("本日の議題は、来年度の予算についてです。", 4.8, 8.0, 0.75),
        _segment("ありがとうございました。", 41.0, 42.5),  # a real closing thanks, spoken
    ]
    assert find_flags(segments, SPEECH, [_decoded(s) for s in segments]) == []


def test_text_where_no_voice_was_heard_is_flagged_as_silence() -> None:
    invented = _segment("それでは次の議題に移ります。", 15.0, 25.0)  # confident, but nobody spoke
    flags = find_flags([invented], SPEECH, [_decoded(invented)])
    assert [(f.kind, f.segment) for f in flags] == [("silence", 0)]


def test_words_made_up_from_noise_are_flagged_even_where_the_detector_heard_speech() -> None:
    # Babble fools the speech detector; the recogniser does not believe what it wrote.
    noise = _segment("大変な様子だけど、いっぱいながら知らずにわからない。", 41.0, 45.0, probability=0.2)
    clear = _segment("予算案について説明いたします。", 45.5, 48.0, probability=0.85)
    flags = find_flags([noise, clear], SPEECH, [_decoded(noise, no_speech=0.4, logprob=-2.0), _decoded(clear)])
    assert [(f.segment, f.kind) for f in flags] == [(0, "silence")]


def test_looping_phrase_is_flagged_as_repetition() -> None:
    loop = _segment("市の予算の説明です。市の予算の説明です。市の予算の説明です。市の予算の説明です。", 1.0, 9.0)
    flags = find_flags([loop], SPEECH, [_decoded(loop, ratio=3.1)])
    assert [(f.segment, f.kind) for f in flags] == [(0, "repetition")]
    assert has_loop("そうですねそうですねそうですね")


def test_loop_the_pipeline_cut_to_one_copy_is_still_flagged() -> None:
    # The recogniser wrote the phrase four times; the pipeline kept one copy in the segment.
    kept = _segment("よろしくお願いします。", 2.0, 3.5)
    raw_words = [Word(start=2.0 + k * 1.5, end=3.5 + k * 1.5, text="よろしくお願いします。") for k in range(4)]
    raw = RecognizedSegment(2.0, 8.0, "よろしくお願いします。" * 4, raw_words, -0.4, 0.1, 1.6)
    flags = find_flags([kept], SPEECH, [raw])
    assert [(f.segment, f.kind) for f in flags] == [(0, "repetition")]


@pytest.mark.parametrize("text", ["はい、はい", "はい、はい、はい。", "ええ、ええ", "1億0000万円の100000000円"])
def test_ordinary_short_repetitions_and_numbers_are_not_loops(text: str) -> None:
    segment = _segment(text, 1.0, 2.5)
    assert not has_loop(text)
    assert find_flags([segment], SPEECH, [_decoded(segment)]) == []


def test_same_sentence_again_is_flagged_but_backchannels_and_other_speakers_are_not() -> None:
    segments = [
        _segment("はい。", 1.0, 1.4),
        _segment("はい。", 1.6, 2.0),
        _segment("よろしくお願いいたします。", 2.5, 4.0, speaker="S1"),
        _segment("よろしくお願いいたします。", 4.2, 5.5, speaker="S2"),  # the other party answers in kind
        _segment("防災訓練の日程を決めます。", 6.0, 7.5, speaker="S2"),
        _segment("防災訓練の日程を決めます。", 7.6, 9.5, speaker="S2"),  # the decoder said it twice
    ]
    flags = find_flags(segments, SPEECH, [_decoded(s) for s in segments])
    assert [(f.segment, f.kind) for f in flags] == [(5, "repetition")]


def test_flags_are_optional_in_the_json_and_survive_a_round_trip() -> None:
    segment = _segment("ご視聴ありがとうございました", 1.0, 2.0)
    old = Transcript.model_validate({"schema": "kiroku.transcript/1", "duration": 3.0, "segments": []})
    assert old.flags == [] and "flags" not in old.to_json_dict()
    flag = Flag(segment=0, start=1.0, end=2.0, kind="caption", text=segment.text, reason="確認してください")
    with_flags = Transcript(duration=3.0, segments=[segment], flags=[flag])
    data = json.loads(json.dumps(with_flags.to_json_dict(), ensure_ascii=False))
    assert data["flags"][0]["kind"] == "caption"
    assert Transcript.model_validate(data) == with_flags


def test_flags_follow_their_segment_when_speakers_are_relabelled() -> None:
    # `kiroku relabel` cuts utterances anew at the new speaker changes: the flag must still
    # point at the invented caption, not at whatever segment now has its old index.
    first = _segment("こんにちは。はい。", 0.0, 4.0)
    caption = _segment("ご視聴ありがとうございました", 6.0, 8.0)
    flag = Flag(segment=1, start=6.0, end=8.0, kind="caption", text=caption.text, reason="確認してください")
    transcript = Transcript(duration=10.0, segments=[first, caption], flags=[flag])
    turns = [SpeakerTurn(start=0.0, end=2.1, speaker="S1"), SpeakerTurn(start=2.1, end=10.0, speaker="S2")]
    again = relabel(transcript, turns)
    assert len(again.segments) == 3
    assert [again.segments[f.segment].text for f in again.flags] == [caption.text]
    assert repoint_flags([flag], []) == []  # nothing left to point at


@pytest.mark.slow
def test_pipeline_writes_the_flag_of_text_invented_over_silence_into_the_transcript(
    pipeline: Pipeline, speech: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real model and audio; the recogniser also "hears" a confident sentence in the silence after
    the speech (as Whisper does over some noise), so the flag certainly has to reach the transcript."""
    hiss = (np.random.default_rng(5).standard_normal(12 * SAMPLE_RATE) * 0.0003).astype(np.float32)
    source = encode(np.concatenate([speech, hiss]), tmp_path / "speech_silence.flac", ENCODINGS[4])
    quiet = len(speech) / SAMPLE_RATE + 3.0
    text = "それでは次の議題に移ります。"
    words = [
        Word(start=quiet + k, end=quiet + k + 1, text=p, confidence=0.9)
        for k, p in enumerate(("それでは", "次の議題に", "移ります。"))
    ]
    invented = RecognizedSegment(
        quiet, quiet + 3, text, words, avg_logprob=-0.3, no_speech_prob=0.1, compression_ratio=1.2
    )
    real = pipeline.recognizer.transcribe
    passes: list[Recognition] = []

    def transcribe(audio: np.ndarray, stretches: list[Span], context: str | None = None) -> Recognition:
        first = real(audio, stretches, context)
        extra = [] if passes else [invented]  # only in the first pass (one for skipped speech may follow)

        def decode(into: Recognition) -> Iterator[RecognizedSegment]:
            yield from first
            into.language, into.windows = first.language, first.windows
            yield from extra

        passes.append(Recognition(decode, first.language))
        return passes[-1]

    monkeypatch.setattr(pipeline.recognizer, "transcribe", transcribe)
    transcript = pipeline.run(source)
    texts = [s.text for s in transcript.segments]
    assert text in texts and "開会" in "".join(texts), texts
    assert [(f.segment, f.kind, f.text) for f in transcript.flags] == [(texts.index(text), "silence", text)]
    assert transcript.flags[0].reason == REASON_SILENCE
    data = json.loads(json.dumps(transcript.to_json_dict(), ensure_ascii=False))
    assert data["flags"][0]["kind"] == "silence"


@pytest.mark.slow
def test_transcript_json_flags_invented_text_and_not_the_speech(tmp_path: Path) -> None:
    """Real model: a sentence, 12 s of murmuring noise, then a telephone dialogue."""
    rng = np.random.default_rng(3)
    n = 12 * SAMPLE_RATE
    # Speech-band noise switched on and off at a syllable rate: a murmur with no words in it.
    t = np.arange(n) / SAMPLE_RATE
    murmur = np.zeros(n)
    for _ in range(6):
        band = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * _formants(n), n)
        murmur += band * np.clip(np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 6)) + 0.3, 0, None)
    murmur = murmur / np.sqrt(np.mean(murmur**2)) * 10 ** (-33 / 20)  # about 10 dB below the voices
    first = load_pcm(SINGLE)
    audio = np.concatenate([first, murmur, load_pcm(DIALOGUE)]).astype(np.float32)
    source = encode(audio, tmp_path / "speech_noise_speech.flac", ENCODINGS[4])
    out = tmp_path / "out.json"
    result = run_kiroku("transcribe", str(source), "--format", "json", "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    transcript = Transcript.model_validate(data)
    noise = (len(first) / SAMPLE_RATE, (len(first) + n) / SAMPLE_RATE)

    def in_noise(segment: Segment) -> bool:
        length = max(segment.end - segment.start, 1e-3)
        return (min(segment.end, noise[1]) - max(segment.start, noise[0])) / length > 0.5

    flagged = {f.segment for f in transcript.flags}
    on_speech = [i for i, s in enumerate(transcript.segments) if not in_noise(s)]
    invented = [i for i, s in enumerate(transcript.segments) if in_noise(s)]
    spoken = "".join(transcript.segments[i].text for i in on_speech)
    assert "開会" in spoken and "ごみ" in spoken
    assert not flagged & set(on_speech), [transcript.segments[i].text for i in flagged]  # speech is left alone
    assert set(invented) <= flagged  # whatever the recogniser made up over the noise is flagged
    assert ("flags" in data) == bool(invented)
    for flag in transcript.flags:
        assert flag.text == transcript.segments[flag.segment].text and flag.reason


def _formants(n: int) -> np.ndarray:
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    bands: np.ndarray = np.exp(-(((freqs - 500) / 400) ** 2)) + 0.5 * np.exp(-(((freqs - 1500) / 600) ** 2))
    return bands

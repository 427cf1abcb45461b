"""Stereo recordings: phone calls split into one speaker per channel, copies of one signal mixed."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import DIALOGUE, ENCODINGS, FIXTURES, SINGLE, encode, load_pcm
from transcriber.audio import SAMPLE_RATE, decode
from transcriber.channels import ChannelActivity, ChannelAnalyzer, channel_turns
from transcriber.formats import render
from transcriber.pipeline import Pipeline, SpeakerHints
from transcriber.relabel import relabel

PLACENAMES = FIXTURES / "ja_placenames.flac"  # 「くまたの交差点と、ひらのくの駅前に、街路灯を増やします。」
LEAK = 0.1  # each party also reaches the other line 20 dB down (echo, side-tone)


def _write_stereo(path: Path, left: np.ndarray, right: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Two 16 kHz float channels as a stereo WAV: 16-bit PCM, or μ-law at 8 kHz like a telephone line."""
    if rate != SAMPLE_RATE:
        positions = np.arange(len(left) * rate // SAMPLE_RATE) * SAMPLE_RATE / rate
        left, right = (np.interp(positions, np.arange(len(x)), x) for x in (left, right))
    pcm = (np.clip(np.stack([left, right]), -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le" if rate == SAMPLE_RATE else "pcm_mulaw", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


def _call(overlap: float = 0.0) -> tuple[np.ndarray, np.ndarray, float]:
    """The clerk (ja_single) on the left, then the caller (ja_placenames) on the right; and when the caller starts."""
    clerk, caller = load_pcm(SINGLE), load_pcm(PLACENAMES)
    start = len(clerk) - int(overlap * SAMPLE_RATE)
    left = np.zeros(start + len(caller), np.float32)
    right = np.zeros_like(left)
    left[: len(clerk)] = clerk
    right[start:] = caller
    return left + LEAK * right, right + LEAK * left, start / SAMPLE_RATE


def _activity(path: Path) -> ChannelActivity | None:
    analyzer = ChannelAnalyzer()
    decode(path, channels=analyzer)
    return analyzer.activity()


@pytest.fixture(scope="module")
def call_8k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    left, right, _ = _call()
    return _write_stereo(tmp_path_factory.mktemp("stereo") / "call.wav", left, right, rate=8000)


def _copies(tmp_path: Path, gain: float) -> Path:
    dialogue = load_pcm(DIALOGUE)
    return _write_stereo(tmp_path / "copies.wav", dialogue, gain * dialogue)


def test_auto_splits_a_call_and_mixes_copies_of_one_signal(call_8k: Path, tmp_path: Path) -> None:
    call = _activity(call_8k)
    assert call is not None and call.differ()
    assert call.own_share > 0.9 and call.correlation < 0.5
    clerk_end = len(load_pcm(SINGLE)) / SAMPLE_RATE
    turns = channel_turns(call, "auto")
    assert turns is not None and {t.speaker for t in turns} == {"S1", "S2"}
    assert all(t.end <= clerk_end for t in turns if t.speaker == "S1")  # the left party's leak is not S2
    assert all(t.start >= clerk_end for t in turns if t.speaker == "S2")
    for gain in (1.0, 0.5, 0.05):  # mono recorded as stereo, at equal or unequal levels
        copies = _activity(_copies(tmp_path, gain))
        assert copies is not None and not copies.differ() and copies.correlation > 0.99
        assert channel_turns(copies, "auto") is None
        assert channel_turns(copies, "split") is not None  # asked for, it is done
    # A hint that rules out two speakers keeps auto from splitting; mix never looks.
    assert channel_turns(call, "auto", two_speakers_possible=SpeakerHints(exact=3).allow(2)) is None
    assert channel_turns(call, "mix") is None
    with pytest.raises(ValueError):
        channel_turns(call, "both")


def test_looking_at_the_channels_leaves_the_mix_as_before(call_8k: Path, speech: np.ndarray, tmp_path: Path) -> None:
    stereo = [e for e in ENCODINGS if e.channels == 2 and e.name in {"wav-stereo-48k", "mp3-stereo-44k"}]
    sources = [call_8k, *(encode(speech, tmp_path / f"s{e.suffix}", e) for e in stereo)]
    for source in sources:
        assert np.array_equal(decode(source, channels=ChannelAnalyzer()), decode(source))
    # One channel on request, without the other party (but for its leak).
    start = _call()[2]
    caller = decode(call_8k, channel=1)
    at = int(start * SAMPLE_RATE)
    assert np.sqrt(np.mean(caller[:at] ** 2)) < 0.2 * np.sqrt(np.mean(caller[at:] ** 2))
    # A mono recording has no channels to look at: split falls back to the mix.
    mono = ChannelAnalyzer()
    decode(SINGLE, channels=mono)
    assert mono.activity() is None and channel_turns(None, "split") is None


def test_an_unknown_channels_value_is_a_usage_error() -> None:
    from kiroku.cli import app

    result = CliRunner().invoke(app, ["transcribe", str(SINGLE), "--channels", "both", "-q"])
    assert result.exit_code == 2
    assert "auto, split, mix" in result.output


@pytest.mark.slow
def test_a_stereo_call_gets_one_speaker_per_channel(pipeline: Pipeline, tmp_path: Path) -> None:
    left, right, caller_starts = _call(overlap=1.5)  # the caller starts before the clerk has finished
    clerk_ends = len(load_pcm(SINGLE)) / SAMPLE_RATE
    source = _write_stereo(tmp_path / "call.wav", left, right)
    split = pipeline.run(source, channels="split")
    assert [s.id for s in split.speakers] == ["S1", "S2"]
    by_speaker = {s: "".join(seg.text for seg in split.segments if seg.speaker == s) for s in ("S1", "S2")}
    # Each channel recognised on its own: both sentences whole, though they overlap.
    assert "開会" in by_speaker["S1"] and "予算について" in by_speaker["S1"]
    assert "交差点" in by_speaker["S2"] and "駅前" in by_speaker["S2"]
    words = [(w, s.speaker) for s in split.segments for w in s.words]
    alone = [(w, speaker) for w, speaker in words if w.end < caller_starts or w.start > clerk_ends]
    assert {speaker for w, speaker in alone if w.start > clerk_ends} == {"S2"}
    assert {speaker for w, speaker in alone if w.end < caller_starts} == {"S1"}
    # The channel turns are kept like the diarizer's: RTTM and relabelling work on them.
    assert {t.speaker for t in split.turns} == {"S1", "S2"}
    assert {line.split()[7] for line in render(split, "rttm").splitlines()} == {"S1", "S2"}
    again = relabel(split, split.turns)  # where the parties overlap, turns alone cannot tell whose a word is
    again_words = sorted(((w, s.speaker) for s in again.segments for w in s.words), key=lambda p: p[0].start)
    assert [w for w, _ in again_words] == sorted((w for w, _ in words), key=lambda w: w.start)
    assert [p for p in again_words if p[0].end < caller_starts or p[0].start > clerk_ends] == alone
    # auto (the default) makes the same choice.
    assert pipeline.run(source) == split


@pytest.mark.slow
def test_identical_channels_are_mixed_and_diarized_by_voice(pipeline: Pipeline, tmp_path: Path) -> None:
    source = _copies(tmp_path, 1.0)
    auto = pipeline.run(source)
    # Not split by channel (both would speak at once): the diarizer tells the two voices apart.
    speaker_of = {s.text: s.speaker for s in auto.segments}
    assert [v for k, v in speaker_of.items() if "大阪市" in k] == ["S1"]
    assert [v for k, v in speaker_of.items() if "ごみ" in k] == ["S2"]
    assert pipeline.run(source, channels="mix") == auto

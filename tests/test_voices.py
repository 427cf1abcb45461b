"""Known speakers named by voice (issue 26): clean speech, enrolment refusals, matching, the CLI.

Real audio: the fixtures' two synthetic voices (ja_single and ja_placenames are one voice; in
ja_dialogue that voice is the second utterance, between two of another voice).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import DIALOGUE, FIXTURES, SINGLE, load_pcm
from transcriber import voices
from transcriber.transcript import Segment, Speaker, SpeakerTurn, Transcript

RATE = 16000
# Where each utterance of ja_dialogue is (measured on the committed file's levels).
DIALOGUE_UTTERANCES = [(0.6, 5.65, "S1"), (6.35, 9.5, "S2"), (10.15, 14.0, "S1")]


def _transcript(turns: list[tuple[float, float, str]], duration: float) -> Transcript:
    return Transcript(
        duration=duration,
        speakers=[Speaker(id=s) for s in dict.fromkeys(t[2] for t in turns)],
        segments=[Segment(start=a, end=b, speaker=s, text="。") for a, b, s in turns],
        turns=[SpeakerTurn(start=a, end=b, speaker=s) for a, b, s in turns],
    )


def test_clean_speech_leaves_out_where_others_speak() -> None:
    t = _transcript([(0.0, 10.0, "S1"), (8.0, 12.0, "S2"), (11.0, 20.0, "S1")], 20.0)
    assert voices.clean_speech(t, "S1") == [(0.0, 8.0), (12.0, 20.0)]
    assert voices.clean_speech(t, "S2") == [(10.0, 11.0)]
    assert voices.seconds(voices.clean_speech(t, "S1")) == pytest.approx(16.0)


def test_match_names_clear_matches_once_and_leaves_unknown_voices() -> None:
    rng = np.random.default_rng(0)
    base = np.abs(rng.normal(size=(3, 256)))
    near = base[0] + 0.05 * np.abs(rng.normal(size=256))
    found = {"S1": list(near), "S2": list(base[2])}  # S2's voice is not enrolled
    chosen = voices.match(found, [list(base[0]), list(base[1])], threshold=0.99, margin=0.0)
    assert set(chosen) == {"S1"} and chosen["S1"].profile == 0
    # Two speakers claiming one profile equally: neither is named.
    twice = voices.match({"S1": list(near), "S3": list(near)}, [list(base[0])], threshold=0.9, margin=0.01)
    assert twice == {}


def test_apply_names_marks_estimates_and_keeps_names_a_clerk_gave() -> None:
    t = _transcript([(0.0, 5.0, "S1"), (5.0, 9.0, "S2")], 9.0)
    t.speakers[1].name = "総務課長"
    profiles = [voices.Profile(name="区長", embeddings=[[1.0]], consent="同意書 2026-12-01")]
    chosen = {s: voices.Candidate(s, 0, 0.97) for s in ("S1", "S2")}
    named = voices.apply_names(t, chosen, profiles)
    s1, s2 = named.speakers
    assert (s1.name, s1.voice_estimated, s1.voice_score) == ("区長", True, 0.97)
    assert (s2.name, s2.voice_estimated) == ("総務課長", None)
    first = named.model_dump(exclude_none=True)["speakers"][0]
    assert first == {"id": "S1", "name": "区長", "voice_score": 0.97, "voice_estimated": True}


def test_registry_round_trip_requires_consent(tmp_path: Path) -> None:
    book = voices.Registry()
    with pytest.raises(voices.VoiceError, match="同意"):
        book.enrol("区長", [[0.1, 0.2]], consent="  ")
    book.enrol("区長", [[0.1, 0.2]], consent="本人同意 2026-12-01", enrolled_by="clerk", title="区長")
    book.enrol("区長", [[0.3, 0.4]], consent="本人同意 2026-12-01")
    path = tmp_path / "voices.json"
    path.write_text(book.to_json(), encoding="utf-8")
    again = voices.Registry.read(path)
    assert [(p.name, p.title, len(p.embeddings), p.enrolled_by) for p in again.profiles] == [
        ("区長", "区長", 2, "clerk")
    ]
    assert "audio" not in path.read_text()


@pytest.fixture(scope="module")
def encoder() -> voices.VoiceEncoder:
    from transcriber.diarization import weights

    if not weights.is_installed():
        pytest.skip("speaker encoder not installed (kiroku models install)")
    return voices.VoiceEncoder(weights.weight_path(weights.ENCODER))


def _kumo_recording() -> tuple[np.ndarray, Transcript]:
    """One voice for about 31 s (ja_single, ja_placenames, ja_single, ja_placenames) as S1."""
    parts = [load_pcm(SINGLE), load_pcm(FIXTURES / "ja_placenames.flac")] * 2
    audio = np.concatenate(parts)
    return audio, _transcript([(0.0, len(audio) / RATE, "S1")], len(audio) / RATE)


def _dialogue_recording() -> tuple[np.ndarray, Transcript]:
    """ja_dialogue and then ja_placenames said by its second voice: S2 speaks about 9 s."""
    dialogue, more = load_pcm(DIALOGUE), load_pcm(FIXTURES / "ja_placenames.flac")
    offset = len(dialogue) / RATE
    turns = [*DIALOGUE_UTTERANCES, (offset + 0.3, offset + len(more) / RATE - 0.3, "S2")]
    audio = np.concatenate([dialogue, more])
    return audio, _transcript(turns, len(audio) / RATE)


def test_enrolment_refuses_less_than_20_seconds(encoder: voices.VoiceEncoder) -> None:
    audio, transcript = _dialogue_recording()
    with pytest.raises(voices.VoiceError, match="20 秒以上"):
        voices.enrolment_embeddings(encoder, audio, transcript, "S2")
    with pytest.raises(voices.VoiceError, match="S9"):
        voices.enrolment_embeddings(encoder, audio, transcript, "S9")


def test_enrolled_voice_is_named_in_another_recording_and_the_other_voice_is_not(
    encoder: voices.VoiceEncoder,
) -> None:
    audio, transcript = _kumo_recording()
    book = voices.Registry()
    book.enrol("区長", voices.enrolment_embeddings(encoder, audio, transcript, "S1"), consent="本人同意")
    assert len(book.profiles[0].embeddings) == 3  # one per 10 s of clean speech
    other_audio, other = _dialogue_recording()
    found = voices.speaker_embeddings(encoder, other_audio, other)
    scores = {s: voices.similarity(e, book.profiles[0].centroid()) for s, e in found.items()}
    chosen = voices.match(found, [book.profiles[0].centroid()])
    named = voices.apply_names(other, chosen, book.profiles)
    by_id = {s.id: s for s in named.speakers}
    assert by_id["S2"].name == "区長" and by_id["S2"].voice_estimated, scores
    assert by_id["S1"].name is None, scores


def test_cli_enrolls_and_names(tmp_path: Path, encoder: voices.VoiceEncoder) -> None:

    from kiroku.cli import app

    _ = encoder  # the weights must be there
    runner = CliRunner()
    audio, transcript = _kumo_recording()
    wav = tmp_path / "kumo.wav"
    _write_wav(wav, audio)
    t1 = tmp_path / "kumo.json"
    t1.write_text(json.dumps(transcript.to_json_dict()), encoding="utf-8")
    registry = tmp_path / "voices.json"
    base = ["voices", "enroll", str(registry), "区長", str(wav), "--transcript", str(t1), "--speaker", "S1"]
    refused = runner.invoke(app, [*base, "--consent", ""])
    assert refused.exit_code == 1 and not registry.exists()
    done = runner.invoke(app, [*base, "--consent", "本人同意 2026-12-01", "--title", "区長"])
    assert done.exit_code == 0, done.output
    assert json.loads(registry.read_text())["profiles"][0]["name"] == "区長"

    other_audio, other = _dialogue_recording()
    wav2, t2, out = tmp_path / "dialogue.wav", tmp_path / "dialogue.json", tmp_path / "named.json"
    _write_wav(wav2, other_audio)
    t2.write_text(json.dumps(other.to_json_dict()), encoding="utf-8")
    named = runner.invoke(app, ["voices", "name", str(registry), str(t2), "--audio", str(wav2), "-o", str(out)])
    assert named.exit_code == 0, named.output
    speakers = {s["id"]: s for s in json.loads(out.read_text())["speakers"]}
    assert speakers["S2"]["name"] == "区長" and speakers["S2"]["voice_score"] >= voices.MATCH_THRESHOLD
    assert "name" not in speakers["S1"]
    short = runner.invoke(
        app, ["voices", "enroll", str(registry), "課長", str(wav2), "-t", str(t2), "-s", "S2", "--consent", "同意"]
    )
    assert short.exit_code == 1 and "20 秒" in short.output


def _write_wav(path: Path, audio: np.ndarray) -> None:
    import wave

    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm.tobytes())

"""Speaker diarization: the Turn contract, NME-SC clustering, and the offline embedded backend.

The clustering tests need only numpy and scipy. The backend tests need torch and pyannote.audio
plus two local weight files, which are never in the repository:

    KIROKU_DIAR_SEGMENTATION  a pyannote segmentation checkpoint (pytorch_model.bin)
    KIROKU_DIAR_ENCODER       resemblyzer's pretrained.pt (found in an installed resemblyzer if unset)

By default they use the weights `kiroku models install` put in $KIROKU_HOME (as `make test`
does). Without any, those tests skip and say why.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import DIALOGUE, SINGLE, load_pcm
from transcriber.diarization.base import Turn, check_speaker_bounds, relabel

# --- the contract ------------------------------------------------------------------------------


def test_turn_is_frozen() -> None:
    turn = Turn(0.0, 1.0, "S1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        turn.speaker = "S2"  # type: ignore[misc]


def test_relabel_names_speakers_by_first_appearance() -> None:
    turns = relabel([(5.0, 6.0, "b"), (0.0, 1.0, 7), (2.0, 3.0, "b"), (4.0, 4.5, 7)])
    assert [t.speaker for t in turns] == ["S1", "S2", "S1", "S2"]
    assert [t.start for t in turns] == [0.0, 2.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("hints", "expected"),
    [((None, None, None), (None, 1, None)), ((3, None, None), (3, 3, 3)), ((None, 2, 4), (None, 2, 4))],
)
def test_speaker_bounds(hints: tuple[Any, Any, Any], expected: tuple[Any, Any, Any]) -> None:
    assert check_speaker_bounds(*hints) == expected


@pytest.mark.parametrize("hints", [(0, None, None), (None, 3, 2), (None, -1, None)])
def test_speaker_bounds_reject_nonsense(hints: tuple[Any, Any, Any]) -> None:
    with pytest.raises(ValueError):
        check_speaker_bounds(*hints)


# --- clustering --------------------------------------------------------------------------------


def _voices(counts: list[int], dim: int = 64, spread: float = 0.35, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of len(counts) synthetic speakers: a random direction each, plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(counts), dim))
    x = np.concatenate(
        [
            c + spread * rng.normal(size=(n, dim)) * np.linalg.norm(c) / np.sqrt(dim)
            for c, n in zip(centres, counts, strict=True)
        ]
    )
    truth = np.repeat(np.arange(len(counts)), counts)
    return x, truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("counts", [[40, 35], [30, 25, 20, 12], [30, 30, 25, 20, 15]])
def test_nmesc_finds_the_number_of_speakers(counts: list[int]) -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    x, truth = _voices(counts)
    result = nmesc.cluster(x - x.mean(axis=0))
    assert result.num_clusters == len(counts)
    assert _same_partition(result.labels, truth)


def test_nmesc_respects_hints() -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    x, _ = _voices([30, 30, 30, 30])
    assert nmesc.cluster(x, num_clusters=2).num_clusters == 2
    assert nmesc.cluster(x, max_clusters=3).num_clusters <= 3


def test_nmesc_bounds_the_problem_size_for_long_recordings() -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    x, truth = _voices([900, 700, 500])  # more than max_points: pre-clustered, then assigned
    result = nmesc.cluster(x - x.mean(axis=0), max_points=300)
    assert result.num_clusters == 3
    assert np.mean(result.labels == result.labels[0]) < 0.9
    agreement = max(np.mean(result.labels[truth == 0] == k) for k in range(3))
    assert agreement > 0.95


def test_merge_guard_joins_pieces_of_one_voice_only() -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    rng = np.random.default_rng(3)
    voice = np.abs(rng.normal(size=32))
    other = np.abs(rng.normal(size=32))
    pieces = np.stack([voice + 0.05 * rng.normal(size=32) for _ in range(20)] + [other] * 5)
    labels = np.array([0] * 10 + [1] * 10 + [2] * 5)
    merged = nmesc.merge_close_clusters(pieces, labels, threshold=0.93)
    assert merged.tolist() == [0] * 20 + [1] * 5


def _turns(voices: np.ndarray, plan: list[tuple[int, int]], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of 5 s windows 1 s apart over turns (voice, seconds), as the segmentation slides.

    Each second of speech varies a lot around its voice (real speech does); a window averages
    its five seconds, so overlapping windows of one turn are near-duplicates.
    """
    out, starts, t = [], [], 0
    for voice, seconds in plan:
        pieces = voices[voice] + 1.5 * rng.normal(size=(seconds + 4, voices.shape[1]))
        for i in range(seconds):
            out.append(pieces[i : i + 5].mean(axis=0))
            starts.append(t + i)
        t += seconds + 4
    return np.stack(out), np.asarray(starts, dtype=float)


def test_turns_of_one_voice_are_folded_into_one_speaker() -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    rng = np.random.default_rng(5)
    voices = rng.normal(size=(3, 32))
    # Two voices taking short turns, and a third who speaks once but at length.
    plan = [(0, 3), (1, 3), (0, 3), (1, 3), (0, 3), (1, 3), (2, 8)]
    x, starts = _turns(voices, plan, rng)
    x -= x.mean(axis=0)
    found = nmesc.cluster(x).labels
    assert len(set(found.tolist())) > 3  # spectral clustering alone returns turns, not voices
    merged = nmesc.merge_echo_clusters(x, found, starts, min_separation=2.5)
    voice = np.repeat([v for v, _ in plan], [n for _, n in plan])
    assert _same_partition(merged, voice)


def test_voices_heard_together_are_never_folded() -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    rng = np.random.default_rng(5)
    x, starts = _turns(rng.normal(size=(1, 32)), [(0, 3), (0, 3)], rng)
    labels = np.repeat([0, 1], 3)
    assert len(set(nmesc.merge_echo_clusters(x, labels, starts, 2.5).tolist())) == 1
    starts[3] = starts[0]  # the segmentation heard both in one window: two people
    assert len(set(nmesc.merge_echo_clusters(x, labels, starts, 2.5).tolist())) == 2


def test_small_clusters_are_absorbed() -> None:
    pytest.importorskip("scipy")
    from transcriber.diarization import nmesc

    x, truth = _voices([20, 20])
    labels = truth.copy()
    labels[0] = 2  # a one-window stray
    out = nmesc.absorb_small_clusters(x, labels, min_size=3)
    assert out.tolist() == truth.tolist()


# --- the offline backend -----------------------------------------------------------------------


def _weights() -> tuple[Path, Path]:
    for module in ("torch", "torchaudio", "pyannote.audio", "scipy"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed (diarization extra)")
    segmentation = os.environ.get("KIROKU_DIAR_SEGMENTATION")
    if not segmentation:
        from transcriber.diarization import weights

        if weights.is_installed():  # provisioned by `kiroku models install`, as `make test` does
            return weights.weight_path(weights.SEGMENTATION), weights.weight_path(weights.ENCODER)
    if not segmentation or not Path(segmentation).is_file():
        pytest.skip("set KIROKU_DIAR_SEGMENTATION to a pyannote segmentation checkpoint")
    encoder = os.environ.get("KIROKU_DIAR_ENCODER")
    if not encoder:
        spec = importlib.util.find_spec("resemblyzer")  # locate its weights without importing it
        if spec is not None and spec.origin is not None:
            encoder = str(Path(spec.origin).parent / "pretrained.pt")
    if not encoder or not Path(encoder).is_file():
        pytest.skip("set KIROKU_DIAR_ENCODER to resemblyzer's pretrained.pt")
    return Path(segmentation), Path(encoder)


@pytest.fixture(scope="module")
def embedded() -> Any:
    segmentation, encoder = _weights()
    import torch

    torch.set_num_threads(1)
    from transcriber.diarization.embedded import EmbeddedDiarizer

    return EmbeddedDiarizer(segmentation, encoder)


def test_embedded_answers_the_pipelines_call_with_ordered_turns(embedded: Any) -> None:
    # Called as the pipeline calls any backend: positional hints (exact, minimum, maximum).
    audio = load_pcm(DIALOGUE)
    turns = embedded.diarize(audio, None, 1, 4)
    assert turns and all(type(t) is Turn for t in turns)
    assert [(t.start, t.end) for t in turns] == sorted((t.start, t.end) for t in turns)
    # Labels S1, S2, … in order of first appearance.
    first_seen = list(dict.fromkeys(t.speaker for t in turns))
    assert first_seen == [f"S{k}" for k in range(1, len(first_seen) + 1)]
    assert all(isinstance(t.start, float) and isinstance(t.end, float) for t in turns)
    assert len({t.speaker for t in embedded.diarize(audio, 1, None, None)}) == 1  # the exact count comes first
    with pytest.raises(ValueError, match="num_speakers"):
        embedded.diarize(audio, 0, None, None)


def test_embedded_finds_two_voices_in_a_dialogue(embedded: Any) -> None:
    audio = load_pcm(DIALOGUE)
    turns = embedded.diarize(audio)
    assert {t.speaker for t in turns} == {"S1", "S2"}
    assert turns[0].speaker == "S1"
    assert all(0 <= t.start < t.end <= len(audio) / 16000 + 0.05 for t in turns)
    assert sum(t.end - t.start for t in turns) > 0.5 * len(audio) / 16000


def test_embedded_keeps_one_voice_as_one_speaker(embedded: Any) -> None:
    single = load_pcm(SINGLE)
    # Repeat it with a little gain change so spectral clustering has enough windows to over-split.
    audio = np.concatenate([single, 0.6 * single, single, np.zeros(8000, np.float32), 1.2 * single])
    turns = embedded.diarize(audio)
    assert {t.speaker for t in turns} == {"S1"}


def test_embedded_honours_num_speakers(embedded: Any) -> None:
    turns = embedded.diarize(load_pcm(DIALOGUE), num_speakers=2)
    assert len({t.speaker for t in turns}) == 2


def test_embedded_returns_nothing_for_silence(embedded: Any) -> None:
    assert embedded.diarize(np.zeros(16000 * 8, np.float32)) == []
    assert embedded.diarize(np.zeros(100, np.float32)) == []


def test_embedded_rejects_bad_input(embedded: Any) -> None:
    with pytest.raises(ValueError):
        embedded.diarize(np.zeros((2, 16000), np.float32))
    with pytest.raises(ValueError):
        embedded.diarize(np.zeros(16000, np.float32), min_speakers=3, max_speakers=2)


def test_embedded_refuses_missing_weights(tmp_path: Path) -> None:
    _weights()
    from transcriber.diarization.embedded import EmbeddedDiarizer

    with pytest.raises(FileNotFoundError):
        EmbeddedDiarizer(tmp_path / "nope.bin", tmp_path / "nope.pt")


# --- the full-pipeline backend (no weights here: loading is faked) ----------------------------


def test_pyannote_pipeline_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("torch", "pyannote.audio"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed (diarization extra)")
    from pyannote.core import Annotation, Segment

    from transcriber.diarization import pyannote_pipeline

    with pytest.raises(FileNotFoundError):
        pyannote_pipeline.PyannotePipelineDiarizer(tmp_path)

    calls: list[dict[str, Any]] = []

    class FakePipeline:
        def to(self, device: Any) -> FakePipeline:
            calls.append({"device": str(device)})
            return self

        def __call__(self, file: dict[str, Any], **hints: Any) -> Annotation:
            calls.append({"shape": tuple(file["waveform"].shape), "rate": file["sample_rate"], **hints})
            annotation = Annotation()
            annotation[Segment(2.0, 3.0)] = "SPEAKER_01"
            annotation[Segment(0.0, 1.5)] = "SPEAKER_00"
            return annotation

    (tmp_path / "config.yaml").write_text("pipeline: {}\n")
    from pyannote.audio import Pipeline

    monkeypatch.setattr(Pipeline, "from_pretrained", staticmethod(lambda path: FakePipeline()))
    diarizer = pyannote_pipeline.PyannotePipelineDiarizer(tmp_path, device="cpu")
    turns = diarizer.diarize(np.zeros(16000 * 4, np.float32), num_speakers=2)
    assert turns == [Turn(0.0, 1.5, "S1"), Turn(2.0, 3.0, "S2")]
    assert calls[0] == {"device": "cpu"}
    assert calls[1] == {"shape": (1, 64000), "rate": 16000, "num_speakers": 2, "min_speakers": 2, "max_speakers": 2}


@pytest.mark.slow
def test_embedded_on_pyannotes_own_sample_recording(embedded: Any) -> None:
    """Real speech (pyannote.audio's bundled 30 s two-speaker sample): DER within 10 %."""
    from pyannote.audio import __file__ as package_file
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from transcriber.audio import decode

    sample = Path(package_file).parent / "sample"
    reference = Annotation()
    for line in (sample / "sample.rttm").read_text().splitlines():
        fields = line.split()
        reference[Segment(float(fields[3]), float(fields[3]) + float(fields[4]))] = fields[7]
    hypothesis = Annotation()
    turns = embedded.diarize(decode(sample / "sample.wav"))
    for turn in turns:
        hypothesis[Segment(turn.start, turn.end)] = turn.speaker
    der = DiarizationErrorRate(collar=0.25, skip_overlap=False)(reference, hypothesis)
    assert len({t.speaker for t in turns}) == 2
    assert der <= 0.10

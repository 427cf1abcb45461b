"""Benchmark: the offline embedded diarizer on the dev set (DER, speaker counts, speed, memory).

    python bench/diarization_dev.py --out out/diar                 # no hints
    python bench/diarization_dev.py --out out/diar-hint --hints    # num_speakers from manifest.csv
    python bench/diarization_dev.py --out out/diar-solo --single-speaker
    python bench/diarization_dev.py --long 60                      # RTF and peak RSS, child process

Writes one kiroku.transcript/1 JSON per recording (one segment per turn, empty text), then runs
``score.py`` on it. Weights come from --segmentation (a pyannote segmentation checkpoint) and
--encoder (resemblyzer's pretrained.pt); neither is in the repository.
Needs torch, pyannote.audio and PyAV in the running interpreter.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transcriber.diarization.base import SAMPLE_RATE, Turn  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"


def decode(path: Path) -> np.ndarray:
    """16 kHz mono float32 with PyAV alone (pyannote's own decoder would need torchcodec)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    parts.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def write_transcript(path: Path, turns: list[Turn], duration: float) -> None:
    speakers = sorted({t.speaker for t in turns}, key=lambda s: int(s[1:]))
    doc = {
        "schema": "kiroku.transcript/1",
        "duration": round(duration, 3),
        "language": "ja",
        "speakers": [{"id": s} for s in speakers],
        "segments": [{"start": t.start, "end": t.end, "speaker": t.speaker, "text": ""} for t in turns],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1))


def load_diarizer(args: argparse.Namespace) -> object:
    import torch

    torch.set_num_threads(args.threads)  # deliberate: the product's budget is one core per job
    try:  # numpy/scipy's BLAS too, or the eigen-decompositions quietly use every core
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    from transcriber.diarization.embedded import EmbeddedDiarizer, EmbeddedSettings

    overrides: dict[str, Any] = {
        k: float(v) if "." in v else int(v) for k, v in (item.split("=", 1) for item in args.param)
    }
    settings = EmbeddedSettings(step=args.step, **overrides)
    return EmbeddedDiarizer(args.segmentation, args.encoder, settings=settings)


def solo_clip(audio: np.ndarray, ref: dict[str, object], speaker: str) -> np.ndarray:
    """One speaker's reference turns, minus anything another speaker overlaps, back to back."""
    segments = ref["segments"]
    assert isinstance(segments, list)
    keep = np.zeros(len(audio), dtype=bool)
    other = np.zeros(len(audio), dtype=bool)
    for seg in segments:
        lo, hi = int(seg["start"] * SAMPLE_RATE), int(seg["end"] * SAMPLE_RATE)
        (keep if seg["speaker"] == speaker else other)[lo:hi] = True
    return audio[keep & ~other]


def run_set(args: argparse.Namespace) -> int:
    rows = list(csv.DictReader((args.set / "manifest.csv").open()))
    if args.only:
        rows = [r for r in rows if r["stem"] in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    diarizer = load_diarizer(args)
    print(f"models loaded in {time.perf_counter() - started:.1f}s", flush=True)
    total_audio = total_wall = 0.0
    solo_results: list[tuple[str, str, float, int]] = []
    for row in rows:
        audio = decode(args.set / row["file"])
        duration = len(audio) / SAMPLE_RATE
        if args.single_speaker:
            ref = json.loads((args.set / f"{row['stem']}.json").read_text())
            for speaker in sorted({s["speaker"] for s in ref["segments"]}):
                clip = solo_clip(audio, ref, speaker)
                t0 = time.perf_counter()
                turns = diarizer.diarize(clip)  # type: ignore[attr-defined]
                total_wall += time.perf_counter() - t0
                total_audio += len(clip) / SAMPLE_RATE
                found = len({t.speaker for t in turns})
                solo_results.append((row["stem"], speaker, len(clip) / SAMPLE_RATE, found))
                print(f"{row['stem']:32s} {speaker:3s} {len(clip) / SAMPLE_RATE:6.1f}s -> {found} speaker(s)")
            continue
        hint = int(row["n_speakers"]) if args.hints else None
        t0 = time.perf_counter()
        turns = diarizer.diarize(audio, num_speakers=hint)  # type: ignore[attr-defined]
        wall = time.perf_counter() - t0
        total_audio += duration
        total_wall += wall
        found = len({t.speaker for t in turns})
        print(
            f"{row['stem']:32s} {duration:6.1f}s  {wall:5.1f}s  RTF {wall / duration:.3f}  "
            f"speakers {row['n_speakers']}/{found}",
            flush=True,
        )
        write_transcript(args.out / f"{row['stem']}.json", turns, duration)
    print(
        f"diarization RTF (models loaded, 1 thread): {total_wall / max(total_audio, 1e-9):.3f} "
        f"over {total_audio:.0f}s; peak RSS {peak_rss_mb():.0f} MB"
    )
    if args.single_speaker:
        right = sum(1 for *_, n in solo_results if n == 1)
        print(f"single-speaker clips found as 1 speaker: {right}/{len(solo_results)}")
        return 0 if right == len(solo_results) else 1
    scored = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), "--ref", str(args.set), "--hyp", str(args.out)], check=False
    )
    return scored.returncode


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_long(args: argparse.Namespace) -> int:
    """Concatenate dev audio to --long minutes and diarize it, reporting RTF and peak RSS."""
    rows = list(csv.DictReader((args.set / "manifest.csv").open()))
    wanted = int(args.long * 60 * SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    have = 0
    index = 0
    while have < wanted:
        piece = decode(args.set / rows[index % len(rows)]["file"])[: wanted - have]
        pieces.append(piece)
        have += len(piece)
        index += 1
    audio = np.concatenate(pieces)
    del pieces
    t0 = time.perf_counter()
    diarizer = load_diarizer(args)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    turns = diarizer.diarize(audio)  # type: ignore[attr-defined]
    wall = time.perf_counter() - t0
    speakers = len({t.speaker for t in turns})
    print(
        f"{args.long:.0f} min: load {load:.1f}s, diarize {wall:.1f}s, RTF {wall / (len(audio) / SAMPLE_RATE):.3f}, "
        f"{len(turns)} turns, {speakers} speakers, peak RSS {peak_rss_mb():.0f} MB"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=EVAL / "dev")
    parser.add_argument("--out", type=Path, default=Path("out/diarization"))
    parser.add_argument("--segmentation", type=Path, required=True, help="pyannote segmentation checkpoint")
    parser.add_argument("--encoder", type=Path, required=True, help="resemblyzer pretrained.pt")
    parser.add_argument("--hints", action="store_true", help="pass the manifest's n_speakers as num_speakers")
    parser.add_argument("--single-speaker", action="store_true", help="diarize each speaker's turns cut out alone")
    parser.add_argument("--long", type=float, default=0.0, help="minutes of concatenated dev audio to diarize")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--step", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an EmbeddedSettings field, e.g. --param onset=0.45",
    )
    args = parser.parse_args()
    return run_long(args) if args.long else run_set(args)


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the kiroku pipeline against bare faster-whisper on the same files, in one run.

    python bench/asr_overhead.py --set ../shared/eval/dev --out /tmp/bench

Loads the same model once for each side, transcribes every recording with both (bare:
``kiroku.benchmark.bare_transcribe``, i.e. ``WhisperModel.transcribe(path, language="ja",
beam_size=5)``), writes both as kiroku.transcript/1 JSON, scores both with the eval set's score.py
and prints wall times, the ratio and RTF. Speed figures belong here, never in unit tests.
``kiroku bench`` measures the same ratio (with diarization share and memory) without the scoring.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from kiroku.benchmark import bare_transcribe, eval_set
from transcriber.audio import SAMPLE_RATE
from transcriber.formats import to_json
from transcriber.pipeline import Pipeline, PipelineOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path(__file__).parents[1] / "../shared/eval/dev")
    parser.add_argument("--out", type=Path, default=Path("/tmp/kiroku-bench"))
    parser.add_argument("--bare-words", action="store_true", help="bare run also computes word timestamps")
    args = parser.parse_args()
    eval_dir = args.set.resolve()
    items = eval_set(eval_dir)
    pipeline = Pipeline(PipelineOptions())
    bare_model = pipeline.recognizer._model  # the very same loaded model: only the pipeline differs
    results = []
    for kind in ("pipeline", "bare"):
        (args.out / kind).mkdir(parents=True, exist_ok=True)
    for item in items:
        started = time.perf_counter()
        transcript = pipeline.run(item.path)
        pipeline_s = time.perf_counter() - started
        (args.out / "pipeline" / f"{item.name}.json").write_text(to_json(transcript))
        started = time.perf_counter()
        bare = bare_transcribe(bare_model, item.path, words=args.bare_words)
        bare_s = time.perf_counter() - started
        (args.out / "bare" / f"{item.name}.json").write_text(to_json(bare))
        duration = transcript.duration
        results.append((item.name, duration, pipeline_s, bare_s))
        print(f"{item.name:<34} {duration:7.1f} s  pipeline {pipeline_s:6.1f} s  bare {bare_s:6.1f} s", flush=True)
    total_audio = sum(r[1] for r in results)
    total_pipeline = sum(r[2] for r in results)
    total_bare = sum(r[3] for r in results)
    print()
    print(
        f"audio {total_audio:.1f} s | pipeline {total_pipeline:.1f} s (RTF {total_pipeline / total_audio:.3f}) | "
        f"bare faster-whisper {total_bare:.1f} s (RTF {total_bare / total_audio:.3f}) | "
        f"ratio pipeline/bare {total_pipeline / total_bare:.3f}"
    )
    score = eval_dir.parent / "score.py"
    for kind in ("pipeline", "bare"):
        print(f"\n== {kind} ==", flush=True)
        subprocess.run([sys.executable, str(score), "--ref", str(eval_dir), "--hyp", str(args.out / kind)], check=False)
    summary = {
        "audio_s": total_audio,
        "pipeline_s": total_pipeline,
        "bare_s": total_bare,
        "ratio": total_pipeline / total_bare,
        "sample_rate": SAMPLE_RATE,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

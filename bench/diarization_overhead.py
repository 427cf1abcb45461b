"""Benchmark: transcription with diarization against transcription alone, on the dev set, in one run.

    python bench/diarization_overhead.py [--set ../shared/eval/dev] [--out /tmp/kiroku-diar-overhead]

Both pipelines are loaded once; each recording is transcribed by both, one right after the other
(alternating which goes first), so a busy machine slows both alike. Prints the wall time of each
side, the ratio (target ≤ 1.6) and the speaker-labelled side's DER from the eval set's score.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from kiroku.benchmark import eval_set
from transcriber.formats import to_json
from transcriber.pipeline import Pipeline, PipelineOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path(__file__).parents[1] / "../shared/eval/dev")
    parser.add_argument("--out", type=Path, default=Path("/tmp/kiroku-diar-overhead"))
    args = parser.parse_args()
    eval_dir = args.set.resolve()
    items = eval_set(eval_dir)
    sides = {"alone": Pipeline(PipelineOptions(diarization="off")), "diarized": Pipeline(PipelineOptions())}
    assert sides["diarized"].diarizer is not None, "no diarizer: run `kiroku models install` first"
    totals = dict.fromkeys(sides, 0.0)
    audio_seconds = 0.0
    for side in sides:
        (args.out / side).mkdir(parents=True, exist_ok=True)
    for index, item in enumerate(items):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        times = {}
        for side in order:
            started = time.perf_counter()
            transcript = sides[side].run(item.path)
            times[side] = time.perf_counter() - started
            (args.out / side / f"{item.name}.json").write_text(to_json(transcript))
        audio_seconds += transcript.duration
        for side, seconds in times.items():
            totals[side] += seconds
        print(f"{item.name:<32} alone {times['alone']:6.1f} s  diarized {times['diarized']:6.1f} s", flush=True)
    score = Path(__file__).parents[1] / "../shared/eval/score.py"
    result = subprocess.run(
        [sys.executable, str(score), "--ref", str(eval_dir), "--hyp", str(args.out / "diarized")],
        capture_output=True,
        text=True,
        check=False,
    )
    overall = next((line for line in result.stdout.splitlines() if line.startswith("OVERALL")), "")
    print("\n| side | wall s | RTF |\n| --- | --- | --- |")
    for side, seconds in totals.items():
        print(f"| {side} | {seconds:.1f} | {seconds / audio_seconds:.3f} |")
    print(f"\nratio diarized / alone: {totals['diarized'] / totals['alone']:.2f} (target ≤ 1.6)")
    print(f"score (diarized): {overall}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

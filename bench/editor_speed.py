"""Benchmark: the editor on a 2-hour meeting (2,000 utterances) in headless Chromium.

    python bench/editor_speed.py [--out /tmp/kiroku-editor-speed]

Runs the browser test that opens the meeting three times and types in its middle (it measures in
the page: performance.now() and the Event Timing API), then prints its figures against the targets:
ready for typing within 1 s of navigation (best of three loads, the overview strip drawn), each
keystroke's handler within one frame (16 ms), every interaction painted within 200 ms ("good"
interaction to next paint), and while playing, marking the word being played costs at most 2 ms a
frame on average. Exits 1
when a target is missed. Run it on an otherwise idle machine: the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/web/test_editor.py::test_editor_opens_2000_utterances_and_measures_itself"
TARGETS = {
    "ready_ms_best": 1000.0,
    "typing_handler_max_ms": 16.0,
    "typing_worst_event_ms": 200.0,
    "highlight_frame_avg_ms": 2.0,  # the word being played, marked each animation frame
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/kiroku-editor-speed"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    metrics_file = args.out / "editor-metrics.json"
    metrics_file.unlink(missing_ok=True)
    env = {**os.environ, "KIROKU_SCREENSHOTS": str(args.out)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT, env=env)
    if run.returncode != 0 or not metrics_file.exists():
        print("the editor test failed; no figures", file=sys.stderr)
        return 2
    report = json.loads(metrics_file.read_text())
    report["ready_ms_best"] = min(report["ready_ms_per_load"])
    missed = []
    for name, target in TARGETS.items():
        ok = report[name] <= target
        missed += [] if ok else [name]
        print(f"{name:24} {report[name]:>9} ms   target ≤ {target:g} ms   {'ok' if ok else 'MISSED'}")
    print("all figures:", json.dumps(report, ensure_ascii=False))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: peak memory and speed on a long recording built by concatenating the dev audio.

    python bench/long_recording_memory.py --minutes 60            # full transcription
    python bench/long_recording_memory.py --minutes 180 --stage vad   # decode + speech detection only

The recording is written as FLAC, then `kiroku transcribe` (or the decode/VAD stages alone) runs
in a child process whose peak resident memory is read from the kernel after it exits. The
figure to compare with is the recording's size as 16 kHz float32, which the pipeline may hold
once.
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np

from transcriber.audio import SAMPLE_RATE, decode

_STAGE_SCRIPT = """
import sys
from transcriber.audio import decode
from transcriber.vad import find_clips
audio = decode(sys.argv[1])
clips = find_clips(audio)
print(len(clips), "clips")
"""


def build_recording(eval_dir: Path, minutes: float, target: Path) -> float:
    rows = list(csv.DictReader((eval_dir / "manifest.csv").open()))
    wanted = int(minutes * 60 * SAMPLE_RATE)
    written = 0
    with av.open(str(target), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=SAMPLE_RATE, layout="mono")
        index = 0
        while written < wanted:
            audio = decode(eval_dir / rows[index % len(rows)]["file"])[: wanted - written]
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                container.mux(packet)
            written += pcm.shape[1]
            index += 1
        for packet in stream.encode(None):
            container.mux(packet)
    return written / SAMPLE_RATE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/dev")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--stage", choices=["all", "vad"], default="all")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    target = args.workdir / f"kiroku-long-{int(args.minutes)}min.flac"
    if not target.exists():
        build_recording(args.set, args.minutes, target)
    seconds = args.minutes * 60
    if args.stage == "vad":
        command = [sys.executable, "-c", _STAGE_SCRIPT, str(target)]
    else:
        command = [
            sys.executable,
            "-m",
            "kiroku",
            "transcribe",
            str(target),
            "-q",
            "-o",
            str(target.with_suffix(".json")),
        ]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    float32_mb = seconds * SAMPLE_RATE * 4 / 1e6
    print("| recording | stages | wall s | RTF | peak RSS MB | audio as 16 kHz float32 MB |")
    row = (
        f"{args.minutes:.0f} min",
        args.stage,
        f"{wall:.1f}",
        f"{wall / seconds:.3f}",
        f"{peak_mb:.0f}",
        f"{float32_mb:.0f}",
    )
    print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

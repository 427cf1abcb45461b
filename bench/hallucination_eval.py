"""Evaluation: are invented texts flagged, and are correct segments left alone?

    KIROKU_HOME=$PWD/.venv/kiroku-home .venv/bin/python bench/hallucination_eval.py --out /tmp/kiroku-hallucination

Three dev recordings of different kinds each get 20 s of digital silence spliced into one pause
and 20 s of noise (seeded numpy: brown, pink or babble-like, at a level a real room or line has)
into another. The real pipeline (the bundled model, the options ``kiroku transcribe`` uses)
transcribes them. A segment lying mostly inside a spliced region is invented text: it must be
flagged (100 %). A segment outside them whose text matches the reference (character error rate
against the aligned stretch of reference ≤ ``--correct-cer``) is correct: fewer than 5 % may be
flagged. The flag rate over all the unmodified dev recordings is reported too. Captions the
pipeline drops before flagging (``is_caption``) are counted from its log, so none go unseen.

The reference is aligned to the recognised text by edit distance over the whole recording
(score.py's normalisation, one segment at a time), not by time, so a segment cut differently from
the reference's turns is still compared with the words it should have.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import logging
import re
import sys
import wave
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
from rapidfuzz.distance import Levenshtein

from transcriber.audio import SAMPLE_RATE, decode
from transcriber.formats import to_json
from transcriber.pipeline import Pipeline, PipelineOptions
from transcriber.transcript import Segment, Transcript

SPLICE_SECONDS = 20.0
# One of each kind, each with its own noise: a quiet interview room with people talking next door,
# a meeting room with ventilation rumble, a telephone line with hiss. Levels are dBFS RMS; the dev
# speech is about -24 dBFS, so these are 8–12 dB below the voices.
SPLICED = {
    "dev_interview01_seikatsuhogo": ("babble", -35.0),
    "dev_meeting03_bousai": ("brown", -32.0),
    "dev_phone01_sodaigomi": ("pink", -32.0),
}


@dataclass
class Row:
    stem: str
    kind: str
    condition: str
    segments: int = 0
    flagged: int = 0
    invented: int = 0
    invented_flagged: int = 0
    dropped_captions: int = 0
    correct: int = 0
    correct_flagged: int = 0
    invented_texts: list[str] = field(default_factory=list)
    correct_flagged_texts: list[str] = field(default_factory=list)


def load_score(eval_dir: Path) -> ModuleType:
    """The eval set's own score.py, for its CER normalisation (it does not import kiroku)."""
    path = eval_dir.parent / "score.py"
    spec = importlib.util.spec_from_file_location("eval_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- noise and splicing


def _shaped(n: int, rng: np.random.Generator, gain: np.ndarray | None = None, power: float = 0.0) -> np.ndarray:
    """White noise with a spectrum falling as 1/f**power, times ``gain`` per frequency bin."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    shape = np.where(freqs < 20.0, 0.0, 1.0 / np.maximum(freqs, 20.0) ** power)
    if gain is not None:
        shape = shape * gain
    noise: np.ndarray = np.fft.irfft(spectrum * shape, n)
    return noise


def make_noise(kind: str, seconds: float, level_db: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    if kind == "pink":
        noise = _shaped(n, rng, power=0.5)
    elif kind == "brown":
        noise = _shaped(n, rng, power=1.0)
    elif kind == "babble":
        # Several speech-shaped noises (formant-like bands), each switched on and off at a
        # syllable-like 3–6 Hz rate: the murmur of a room next door, no words in it.
        freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
        bands = sum(
            w * np.exp(-(((freqs - f) / bw) ** 2)) for f, bw, w in ((500, 400, 1.0), (1500, 600, 0.5), (2500, 800, 0.2))
        )
        t = np.arange(n) / SAMPLE_RATE
        noise = np.zeros(n)
        for _ in range(6):
            rate, phase, bias = rng.uniform(3, 6), rng.uniform(0, 2 * np.pi), rng.uniform(-0.2, 0.5)
            noise += _shaped(n, rng, gain=np.asarray(bands)) * np.clip(
                np.sin(2 * np.pi * rate * t + phase) + bias, 0, None
            )
    else:
        raise ValueError(kind)
    scaled: np.ndarray = (noise / np.sqrt(np.mean(noise**2)) * 10 ** (level_db / 20)).astype(np.float32)
    return scaled


def pause_near(reference: Transcript, at: float) -> float:
    """The middle of the pause between reference turns nearest ``at`` (nobody is cut off)."""
    turns = sorted((s.start, s.end) for s in reference.segments)
    pauses, reach = [], 0.0
    for start, end in turns:
        if start - reach >= 0.3:
            pauses.append((reach + start) / 2)
        reach = max(reach, end)
    if not pauses:
        raise SystemExit("no pause in the reference to splice into")
    return min(pauses, key=lambda p: abs(p - at))


def splice(
    audio: np.ndarray, reference: Transcript, kind: str, level_db: float, seed: int
) -> tuple[np.ndarray, Transcript, list[tuple[float, float, str]]]:
    """Silence at about a third of the recording, noise at two thirds; the reference shifted to match."""
    rng = np.random.default_rng(seed)
    duration = len(audio) / SAMPLE_RATE
    inserts = [
        (pause_near(reference, duration / 3), np.zeros(int(SPLICE_SECONDS * SAMPLE_RATE), np.float32), "silence"),
        (pause_near(reference, 2 * duration / 3), make_noise(kind, SPLICE_SECONDS, level_db, rng), kind),
    ]
    pieces, regions, cursor, shift = [], [], 0, 0.0
    for at, insert, name in inserts:
        cut = int(at * SAMPLE_RATE)
        pieces += [audio[cursor:cut], insert]
        regions.append((at + shift, at + shift + SPLICE_SECONDS, name))
        shift += SPLICE_SECONDS
        cursor = cut
    pieces.append(audio[cursor:])

    def moved(t: float) -> float:
        return t + sum(SPLICE_SECONDS for at, _, _ in inserts if at <= t)

    segments = [s.model_copy(update={"start": moved(s.start), "end": moved(s.end)}) for s in reference.segments]
    shifted = reference.model_copy(update={"segments": segments, "duration": reference.duration + shift})
    return np.concatenate(pieces), shifted, regions


def write_wav(audio: np.ndarray, path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


# --------------------------------------------------------------------------- scoring


def inside_share(segment: Segment, regions: list[tuple[float, float, str]]) -> float:
    length = segment.end - segment.start
    if length < 1e-3:
        return 1.0 if any(a <= segment.start <= b for a, b, _ in regions) else 0.0
    return sum(max(0.0, min(segment.end, b) - max(segment.start, a)) for a, b, _ in regions) / length


def segment_errors(hypothesis: list[Segment], reference: list[Segment], score: ModuleType) -> list[float | None]:
    """Each hypothesis segment's CER against the reference characters aligned to it (None: no text)."""
    hyp_parts = [score.normalize_cer(s.text) for s in hypothesis]
    ref_text = "".join(score.normalize_cer(s.text) for s in sorted(reference, key=lambda s: (s.start, s.end)))
    owner = [k for k, part in enumerate(hyp_parts) for _ in part]  # the segment of each hypothesis character
    edits = [0] * len(hypothesis)
    matched = [0] * len(hypothesis)  # reference characters aligned to the segment
    for op in Levenshtein.opcodes("".join(hyp_parts), ref_text):
        hyp_len, ref_len = op.src_end - op.src_start, op.dest_end - op.dest_start
        if op.tag in ("equal", "replace", "delete"):
            for n, i in enumerate(range(op.src_start, op.src_end)):
                paired = n < ref_len  # a hypothesis character with a reference one (equal or substituted)
                matched[owner[i]] += paired
                edits[owner[i]] += op.tag != "equal"
            if op.tag == "replace" and ref_len > hyp_len:  # the rest are missing characters
                edits[owner[op.src_end - 1]] += ref_len - hyp_len
                matched[owner[op.src_end - 1]] += ref_len - hyp_len
        else:  # reference characters the hypothesis lacks: charged to the segment only if inside it
            before = owner[op.src_start - 1] if op.src_start > 0 else None
            after = owner[op.src_start] if op.src_start < len(owner) else None
            if before is not None and before == after:
                edits[before] += ref_len
                matched[before] += ref_len
    return [None if not part else (edits[k] / matched[k] if matched[k] else 1.0) for k, part in enumerate(hyp_parts)]


class CaptionLog(logging.Handler):
    """Collects the times of captions the pipeline dropped (its log says where)."""

    pattern = re.compile(r"dropped a caption-like hallucination at ([0-9.]+) s")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = self.pattern.search(record.getMessage())
        if found:
            self.times.append(float(found.group(1)))


def evaluate(
    transcript: Transcript,
    reference: Transcript,
    regions: list[tuple[float, float, str]],
    dropped: list[float],
    row: Row,
    score: ModuleType,
    correct_cer: float,
) -> Row:
    flagged = {f.segment for f in transcript.flags}
    outside = [s for s in transcript.segments if inside_share(s, regions) < 0.5]
    errors = dict(zip(map(id, outside), segment_errors(outside, reference.segments, score), strict=True))
    row.segments = len(transcript.segments)
    row.flagged = len(flagged)
    row.dropped_captions = sum(1 for t in dropped if any(a <= t <= b for a, b, _ in regions))
    for index, segment in enumerate(transcript.segments):
        if inside_share(segment, regions) >= 0.5:
            row.invented += 1
            row.invented_flagged += index in flagged
            row.invented_texts.append(
                f"{'flagged' if index in flagged else 'MISSED '} {segment.start:.1f}s {segment.text}"
            )
            continue
        cer = errors[id(segment)]
        if cer is not None and cer <= correct_cer:
            row.correct += 1
            if index in flagged:
                row.correct_flagged += 1
                row.correct_flagged_texts.append(f"{segment.start:.1f}s CER {cer:.2f} {segment.text}")
    return row


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "–"


_COLUMNS = ("segs", "flag%", "invented", "flagged", "dropped", "correct", "c.flag", "c.flag%")
_COUNTS = ("segments", "flagged", "invented", "invented_flagged", "dropped_captions", "correct", "correct_flagged")


def _line(name: str, condition: str, r: Row) -> str:
    cells = (
        r.segments,
        _pct(r.flagged, r.segments),
        r.invented,
        r.invented_flagged,
        r.dropped_captions,
        r.correct,
        r.correct_flagged,
        _pct(r.correct_flagged, r.correct),
    )
    return f"{name:30} {condition:18}" + "".join(f" {cell!s:>8}" for cell in cells)


def render(rows: list[Row]) -> str:
    head = f"{'recording':30} {'condition':18}" + "".join(f" {c:>8}" for c in _COLUMNS)
    lines = [head, "-" * len(head)]
    lines += [_line(r.stem, r.condition, r) for r in rows]
    for condition in ("spliced", "unmodified"):
        group = [r for r in rows if r.condition.startswith(condition)]
        if group:
            total = Row(stem="", kind="", condition=condition)
            for name in _COUNTS:
                setattr(total, name, sum(getattr(r, name) for r in group))
            lines.append(_line(f"ALL {condition}", "", total))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path("/work/shared/eval/dev"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/kiroku-hallucination"))
    parser.add_argument("--correct-cer", type=float, default=0.2, help="a segment at or below this CER is correct")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--louder", type=float, default=0.0, help="dB added to every noise level (a stress test)")
    parser.add_argument("--spliced-only", action="store_true", help="skip the 12 unmodified recordings")
    parser.add_argument("-v", "--verbose", action="store_true", help="list invented texts and flagged correct ones")
    args = parser.parse_args()
    eval_dir = args.set.resolve()
    score = load_score(eval_dir)
    manifest = {r["stem"]: r for r in csv.DictReader((eval_dir / "manifest.csv").open(encoding="utf-8"))}
    args.out.mkdir(parents=True, exist_ok=True)
    captions = CaptionLog()
    logging.getLogger("transcriber.pipeline").addHandler(captions)
    logging.getLogger("transcriber.pipeline").setLevel(logging.INFO)
    pipeline = Pipeline(PipelineOptions())  # what `kiroku transcribe` builds with no options
    runs: list[tuple[str, str, Path, Transcript, list[tuple[float, float, str]]]] = []
    for offset, (stem, (noise, level)) in enumerate(SPLICED.items()):
        reference = Transcript.model_validate_json((eval_dir / f"{stem}.json").read_text(encoding="utf-8"))
        source = eval_dir / manifest[stem]["file"]
        level += args.louder
        audio, shifted, regions = splice(decode(source), reference, noise, level, args.seed + offset)
        path = write_wav(audio, args.out / f"{stem}.spliced.wav")
        runs.append((stem, f"spliced+{noise}{level:.0f}dB", path, shifted, regions))
    if not args.spliced_only:
        for stem, entry in manifest.items():
            reference = Transcript.model_validate_json((eval_dir / f"{stem}.json").read_text(encoding="utf-8"))
            runs.append((stem, "unmodified", eval_dir / entry["file"], reference, []))
    rows = []
    for stem, condition, path, reference, regions in runs:
        captions.times.clear()
        transcript = pipeline.run(path)
        name = f"{stem}.{'spliced' if regions else 'unmodified'}.json"
        (args.out / name).write_text(to_json(transcript), encoding="utf-8")
        row = Row(stem=stem, kind=manifest[stem]["kind"], condition=condition)
        rows.append(evaluate(transcript, reference, regions, captions.times, row, score, args.correct_cer))
        print(f"{stem} {condition}: {row.segments} segments, {row.flagged} flagged", file=sys.stderr, flush=True)
    print(render(rows))
    print(
        f"invented = a segment mostly inside a spliced {SPLICE_SECONDS:.0f} s region; correct = outside them with "
        f"CER ≤ {args.correct_cer:.2f} against the aligned reference; c.flag = correct segments flagged; "
        "dropped = captions the pipeline removed inside the regions before flagging"
    )
    if args.verbose:
        for r in rows:
            for text in r.invented_texts:
                print(f"  invented  {r.stem}: {text}")
            for text in r.correct_flagged_texts:
                print(f"  c.flagged {r.stem} ({r.condition}): {text}")
    summary = [r.__dict__ for r in rows]
    (args.out / "results.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    invented = sum(r.invented for r in rows)
    missed = invented - sum(r.invented_flagged for r in rows if r.condition.startswith("spliced"))
    correct = sum(r.correct for r in rows if r.condition.startswith("spliced"))
    wrongly = sum(r.correct_flagged for r in rows if r.condition.startswith("spliced"))
    return 0 if missed == 0 and (not correct or wrongly / correct < 0.05) else 1


if __name__ == "__main__":
    sys.exit(main())

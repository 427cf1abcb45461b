"""Known-speaker naming on an evaluation set (issue 26): enrol some voices, name the other recordings.

References carry ``speakers[].voice`` (the same value in two recordings is the same person). Over
several seeded random splits, about half of the voices are enrolled, each from the pipeline's own
transcript of one recording where it speaks >= 20 s (the diarized speaker that overlaps it most,
as a clerk would pick it); every other recording is then named from the pipeline's transcripts.

Scoring maps each diarized speaker to the reference voice it overlaps most (for scoring only) and
weighs it by its speech time:
- correct: share of the enrolled voices' speech time whose speaker got that voice's name (goal >= 95 %);
- wrong: share of all speech time whose speaker got another voice's name (goal <= 1 %), which
  includes never-enrolled voices given any name.

    nice -n 10 .venv/bin/python bench/voices_eval.py --ref ../shared/eval/dev --hyp /tmp/ev-dev-nohint

Embeddings are computed once per recording and cached (``--cache``), so the threshold sweep is fast.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from transcriber import voices
from transcriber.transcript import Transcript


@dataclass
class HypSpeaker:
    stem: str
    id: str
    voice: str | None  # reference voice it overlaps most
    speech: float  # seconds of its turns
    clean: float  # seconds of solo speech
    embedding: list[float] | None  # for matching (None: too little speech)
    chunks: list[list[float]]  # for enrolment (empty: < 20 s of clean speech)


def _ref_spans(reference: dict[str, object]) -> dict[str, list[voices.Span]]:
    voice_of = {s["id"]: s.get("voice") for s in reference["speakers"]}  # type: ignore[attr-defined]
    spans: dict[str, list[voices.Span]] = {}
    for seg in reference["segments"]:  # type: ignore[attr-defined]
        voice = voice_of.get(seg["speaker"])
        if voice:
            spans.setdefault(str(voice), []).append((float(seg["start"]), float(seg["end"])))
    return {v: voices._merge(s) for v, s in spans.items()}


def _overlap(a: list[voices.Span], b: list[voices.Span]) -> float:
    total = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0.0, min(e1, e2) - max(s1, s2))
    return total


def _own(transcript: Transcript, speaker: str) -> list[voices.Span]:
    pieces = transcript.turns or transcript.segments
    return voices._merge((p.start, p.end) for p in pieces if p.speaker == speaker)


def embed_set(ref_dir: Path, hyp_dir: Path, cache: Path | None) -> dict[str, list[HypSpeaker]]:
    if cache is not None and cache.exists():
        raw = json.loads(cache.read_text())
        return {stem: [HypSpeaker(**h) for h in hs] for stem, hs in raw.items()}
    from transcriber.audio import decode

    encoder = voices.VoiceEncoder.load()
    result: dict[str, list[HypSpeaker]] = {}
    for ref_path in sorted(ref_dir.glob("*.json")):
        hyp_path = hyp_dir / ref_path.name
        if not hyp_path.exists():
            print(f"missing hypothesis: {hyp_path}", file=sys.stderr)
            continue
        reference = json.loads(ref_path.read_text())
        if not any(s.get("voice") for s in reference.get("speakers", [])):
            continue
        audio_path = next(p for p in ref_dir.glob(ref_path.stem + ".*") if p.suffix != ".json")
        audio = decode(audio_path)
        transcript = Transcript.model_validate_json(hyp_path.read_bytes())
        truth = _ref_spans(reference)
        ids = list(dict.fromkeys([s.id for s in transcript.speakers] + [s.speaker for s in transcript.segments]))
        found = []
        for sid in ids:
            own = _own(transcript, sid)
            overlaps = {v: _overlap(own, spans) for v, spans in truth.items()}
            best = max(overlaps, key=lambda v: overlaps[v]) if overlaps else None
            clean = voices.clean_speech(transcript, sid)
            whole = encoder.embed(audio, clean) if voices.seconds(clean) >= voices.MIN_MATCH_SECONDS else []
            chunks = (
                encoder.embed(audio, clean, chunk_seconds=voices.CHUNK_SECONDS)
                if voices.seconds(clean) >= voices.MIN_ENROL_SECONDS
                else []
            )
            found.append(
                HypSpeaker(
                    stem=ref_path.stem,
                    id=sid,
                    voice=best if best is not None and overlaps[best] > 0 else None,
                    speech=voices.seconds(own),
                    clean=voices.seconds(clean),
                    embedding=whole[0] if whole else None,
                    chunks=chunks,
                )
            )
        result[ref_path.stem] = found
        print(f"embedded {ref_path.stem}: {len(found)} speakers", file=sys.stderr)
    if cache is not None:
        cache.write_text(json.dumps({stem: [h.__dict__ for h in hs] for stem, hs in result.items()}))
    return result


@dataclass
class Split:
    enrolled: dict[str, HypSpeaker]  # voice -> the speaker it was enrolled from
    named: list[str]  # recordings named


def make_splits(data: dict[str, list[HypSpeaker]], count: int, seed: int) -> list[Split]:
    all_voices = sorted({h.voice for hs in data.values() for h in hs if h.voice})
    rng = random.Random(seed)
    splits = []
    for k in range(count):
        order = all_voices[:]
        rng.shuffle(order)
        half = len(order) // 2 + (k % 2) * (len(order) % 2)  # alternate 3 and 4 of 7
        enrolled: dict[str, HypSpeaker] = {}
        for voice in order[:half]:
            # Recordings where the voice's own diarized speaker has >= 20 s of clean speech.
            options = [h for hs in data.values() for h in hs if h.voice == voice and h.chunks]
            if options:
                enrolled[voice] = rng.choice(options)
        used = {h.stem for h in enrolled.values()}
        splits.append(Split(enrolled, [stem for stem in sorted(data) if stem not in used]))
    return splits


@dataclass
class Score:
    enrolled_time: float = 0.0
    correct_time: float = 0.0
    all_time: float = 0.0
    wrong_time: float = 0.0

    def add(self, other: Score) -> None:
        for name in ("enrolled_time", "correct_time", "all_time", "wrong_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def run_split(
    data: dict[str, list[HypSpeaker]], split: Split, threshold: float, margin: float
) -> tuple[Score, list[str]]:
    names = list(split.enrolled)
    profiles = [voices.Profile(name=v, embeddings=split.enrolled[v].chunks, consent="eval") for v in names]
    centroids = [p.centroid() for p in profiles]
    score = Score()
    mistakes = []
    for stem in split.named:
        speakers = data[stem]
        embeddings = {h.id: h.embedding for h in speakers if h.embedding is not None}
        chosen = voices.match(embeddings, centroids, threshold, margin)
        for h in speakers:
            name = names[chosen[h.id].profile] if h.id in chosen else None
            score.all_time += h.speech
            if h.voice in split.enrolled:
                score.enrolled_time += h.speech
                if name == h.voice:
                    score.correct_time += h.speech
            if name is not None and name != h.voice:
                score.wrong_time += h.speech
                mistakes.append(f"{stem} {h.id} ({h.voice}) named {name} at {chosen[h.id].score:.3f}")
    return score, mistakes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", type=Path, required=True, help="references with speakers[].voice (and the audio)")
    parser.add_argument("--hyp", type=Path, required=True, help="the pipeline's own transcripts, same stems")
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--cache", type=Path, default=None, help="embeddings cache (JSON)")
    parser.add_argument("--threshold", type=float, default=voices.MATCH_THRESHOLD)
    parser.add_argument("--margin", type=float, default=voices.MATCH_MARGIN)
    parser.add_argument("--sweep", action="store_true", help="also print a table over thresholds")
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong names")
    args = parser.parse_args(argv)

    data = embed_set(args.ref, args.hyp, args.cache)
    if not data:
        print("no recordings with speakers[].voice", file=sys.stderr)
        return 2
    splits = make_splits(data, args.splits, args.seed)
    thresholds = [args.threshold]
    if args.sweep:
        thresholds = sorted({round(0.80 + 0.02 * k, 2) for k in range(9)} | {args.threshold})
    print(f"{len(data)} recordings, {args.splits} splits (seed {args.seed}), margin {args.margin:.2f}")
    print("| threshold | enrolled voices' time named correctly | all speech time named wrongly | worst split wrong |")
    print("| --- | --- | --- | --- |")
    for threshold in thresholds:
        total = Score()
        worst = 0.0
        all_mistakes: list[str] = []
        for split in splits:
            score, mistakes = run_split(data, split, threshold, args.margin)
            total.add(score)
            worst = max(worst, score.wrong_time / max(score.all_time, 1e-9))
            all_mistakes += mistakes
        correct = total.correct_time / max(total.enrolled_time, 1e-9)
        wrong = total.wrong_time / max(total.all_time, 1e-9)
        mark = " (default)" if threshold == voices.MATCH_THRESHOLD else ""
        print(f"| {threshold:.2f}{mark} | {correct:.1%} | {wrong:.2%} | {worst:.2%} |")
        if args.verbose and threshold == args.threshold:
            for line in sorted(set(all_mistakes)):
                print("  wrong:", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

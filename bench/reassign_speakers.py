"""Speakers given again to saved transcripts, without recognising or diarizing again.

    python bench/reassign_speakers.py IN_DIR OUT_DIR
    python ../shared/eval/score.py --ref ../shared/eval/dev --hyp OUT_DIR

Each ``kiroku.transcript/1`` file in IN_DIR keeps the recogniser's timed words (in its segments)
and the diarizer's ``turns``; the current ``transcriber.speakers.assign_speakers`` is run on them
and the transcript is written to OUT_DIR under the same name, so a change to speaker assignment can
be scored before and after on the same recognition. Text is never changed (CER stays the same).

The recogniser's own segments are not saved, only the utterances cut from them. Utterances are
joined back where only a speaker change could have cut them: consecutive utterances of different
speakers with no pause (under ``UtteranceRules.pause``, and under ``sentence_pause`` after a
sentence end) between them. Utterances of one speaker stay apart (a recogniser segment or a pause
cut them). Corrections are kept as they are; their segment indices may no longer match.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transcriber.diarization.base import Turn
from transcriber.speakers import assign_speakers, speakers_in_order
from transcriber.transcript import Segment
from transcriber.utterances import UtteranceRules

_SENTENCE_END = ("。", "？", "！", "?", "!")


def recogniser_segments(segments: list[Segment], rules: UtteranceRules | None = None) -> list[Segment]:
    """The saved utterances joined back where only a speaker change had cut them."""
    rules = rules or UtteranceRules()
    joined: list[Segment] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if joined and segment.words and joined[-1].words:
            last = joined[-1]
            gap = segment.words[0].start - last.words[-1].end
            sentence_end = last.words[-1].text.rstrip().endswith(_SENTENCE_END)
            if (
                last.speaker != segment.speaker
                and gap < rules.pause
                and not (sentence_end and gap >= rules.sentence_pause)
                and gap > -0.05
            ):
                words = last.words + segment.words
                joined[-1] = last.model_copy(
                    update={"words": words, "text": last.text + segment.text, "end": max(last.end, segment.end)}
                )
                continue
        joined.append(segment)
    return joined


def reassign(data: dict[str, object], join: bool = True) -> dict[str, object]:
    segments = [Segment.model_validate(s) for s in data["segments"]]  # type: ignore[attr-defined]
    turns = [Turn(float(t["start"]), float(t["end"]), str(t["speaker"])) for t in data.get("turns") or []]  # type: ignore[attr-defined]
    if join:
        segments = recogniser_segments(segments)
    out = assign_speakers(segments, turns)
    result = dict(data)
    result["segments"] = [s.model_dump() for s in out]
    result["speakers"] = [s.model_dump() for s in speakers_in_order(out)]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--no-join", action="store_true", help="use the saved utterances as the recogniser's segments")
    args = parser.parse_args(argv)
    if args.input.resolve() == args.output.resolve():
        parser.error("write to another folder")
    args.output.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(args.input.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "segments" not in data:
            continue
        out = reassign(data, join=not args.no_join)
        (args.output / path.name).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        count += 1
    print(f"{count} transcripts written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

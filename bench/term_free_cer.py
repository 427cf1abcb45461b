"""Does the dictionary harm sentences that hold no term? CER on those sentences, two runs compared.

    python bench/term_free_cer.py --plain /tmp/ev-plain --dictionary /tmp/ev-dict [--set ../shared/eval/dev]

Both folders hold the JSON transcripts of one evaluation run each (``run.py --out``), the first
without a dictionary and the second with one. The reference sentences that contain none of the
set's terms are scored alone: each hypothesis utterance goes to the reference sentence it overlaps
longest, so both runs (same timings; a dictionary changes only text) are cut the same way, and a
difference is a change the dictionary made where no term was said. Scored with the eval set's own
normalisation and edit distance (score.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

Segment = dict[str, Any]


def load_scorer(eval_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_score", eval_dir / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no score.py in {eval_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _overlap(a: Segment, b: Segment) -> float:
    return float(min(a["end"], b["end"]) - max(a["start"], b["start"]))


def text_by_sentence(references: list[Segment], hypothesis: list[Segment]) -> list[str]:
    """Each reference sentence's hypothesis text: the utterances overlapping it longest."""
    texts = [""] * len(references)
    for utterance in hypothesis:
        best = max(range(len(references)), key=lambda k: _overlap(utterance, references[k]), default=None)
        if best is not None and _overlap(utterance, references[best]) > 0:
            texts[best] += utterance["text"]
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/dev")
    parser.add_argument("--plain", type=Path, required=True, help="transcripts made without a dictionary")
    parser.add_argument("--dictionary", type=Path, required=True, help="transcripts made with one")
    parser.add_argument(
        "--scorer",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared/eval",
        help="the folder of the eval's score.py (default: beside the dev set)",
    )
    args = parser.parse_args()
    score = load_scorer(args.scorer)
    terms = [row["term"] for row in score.read_terms(args.set / "terms.csv")]
    edits = {"plain": 0, "dictionary": 0}
    sentences = characters = changed = 0
    for reference_path in sorted(args.set.glob("*.json")):
        references = json.loads(reference_path.read_text(encoding="utf-8"))["segments"]
        runs = {
            kind: text_by_sentence(
                references, json.loads((folder / reference_path.name).read_text("utf-8"))["segments"]
            )
            for kind, folder in (("plain", args.plain), ("dictionary", args.dictionary))
        }
        for k, sentence in enumerate(references):
            if any(term in sentence["text"] for term in terms):
                continue
            reference = score.normalize_cer(sentence["text"])
            sentences, characters = sentences + 1, characters + len(reference)
            changed += runs["plain"][k] != runs["dictionary"][k]
            for kind, texts in runs.items():
                edits[kind] += score.edit_distance(reference, score.normalize_cer(texts[k]))
    print(f"{sentences} reference sentences hold no term ({characters} characters); {changed} read differently")
    for kind, count in edits.items():
        print(f"{kind:>10}: CER {100 * count / max(1, characters):.2f} % ({count}/{characters})")
    print(f"difference: {100 * (edits['dictionary'] - edits['plain']) / max(1, characters):+.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

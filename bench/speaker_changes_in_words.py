"""Speaker changes that cut a word, and short fragments stranded between one other speaker's lines.

    python bench/speaker_changes_in_words.py DIR [DIR …] [-v]

Each DIR holds ``kiroku.transcript/1`` JSON files (``run.py --out`` or
``bench/reassign_speakers.py``); files without ``segments`` are skipped.

What is counted, per file, over the utterances with text taken in start-time order:

- **changes inside a word**: two consecutive utterances A, B of different speakers whose boundary
  falls strictly inside a morpheme of the joined text A+B, analysed by SudachiPy (the dictionary
  in ``dictionaries/reading.py``). Counted in split mode C (long units: 商品, 東海林, 12億4千万)
  and, in its own column, in mode A (short units). Every mode-A morpheme lies inside one mode-C
  morpheme, so the mode-A count is never above the mode-C one. Mode C is the figure to bring to 0.
- **fragments**: an utterance of at most 2 characters (punctuation and spaces not counted) whose
  previous and next utterances both belong to one other speaker (S1 商 | S2 品 | S1 の説明).
  Split into backchannels (はい, ええ, うん … : the speaker's own line, which should stay) and the
  others (a piece of a word or of the neighbour's sentence, which should not be there).

A total row follows the files. ``-v`` lists each counted place with its context.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from transcriber.speakers import is_backchannel

_PUNCTUATION = set("、。，．,.！？!?・「」『』（）()〜~ー　 ")


def _chars(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c not in _PUNCTUATION and not c.isspace())


@dataclass
class Counts:
    changes: int = 0
    inside_c: int = 0
    inside_a: int = 0
    fragments: int = 0
    backchannel_fragments: int = 0
    places: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.changes += other.changes
        self.inside_c += other.inside_c
        self.inside_a += other.inside_a
        self.fragments += other.fragments
        self.backchannel_fragments += other.backchannel_fragments


def _cuts_a_morpheme(tokenizer: Any, left: str, right: str) -> bool:
    offset = len(left)
    return any(morpheme.begin() < offset < morpheme.end() for morpheme in tokenizer.tokenize(left + right))


def count_file(segments: list[dict[str, Any]], tokenizers: dict[str, Any]) -> Counts:
    utterances = sorted((s for s in segments if s.get("text", "").strip()), key=lambda s: (s["start"], s["end"]))
    counts = Counts()
    for a, b in itertools.pairwise(utterances):
        if a["speaker"] == b["speaker"]:
            continue
        counts.changes += 1
        left, right = a["text"].strip(), b["text"].strip()
        if _cuts_a_morpheme(tokenizers["C"], left, right):
            counts.inside_c += 1
            where = f"{a['start']:7.2f} {a['speaker']} …{left[-8:]} | {b['speaker']} {right[:8]}…"
            counts.places.append(f"  in word (C) {where}")
        if _cuts_a_morpheme(tokenizers["A"], left, right):
            counts.inside_a += 1
    for before, middle, after in zip(utterances, utterances[1:], utterances[2:], strict=False):
        text = _chars(middle["text"])
        if not (0 < len(text) <= 2) or before["speaker"] != after["speaker"] or middle["speaker"] == before["speaker"]:
            continue
        where = (
            f"{middle['start']:7.2f} {before['speaker']} …{before['text'][-6:]} | "
            f"{middle['speaker']} {middle['text']} | {after['text'][:6]}…"
        )
        if is_backchannel(middle["text"]):
            counts.backchannel_fragments += 1
            counts.places.append(f"  backchannel  {where}")
        else:
            counts.fragments += 1
            counts.places.append(f"  fragment     {where}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="list each counted place")
    args = parser.parse_args(argv)
    from dictionaries.reading import sudachi_tokenizer

    tokenizers = {"A": sudachi_tokenizer("A"), "C": sudachi_tokenizer("C")}
    header = f"{'file':34} {'changes':>7} {'in word C':>9} {'in word A':>9} {'fragments':>9} {'backch.':>7}"
    for folder in args.dirs:
        print(f"{folder}\n{header}\n{'-' * len(header)}")
        total = Counts()
        files = 0
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or "segments" not in data:
                continue
            counts = count_file(data["segments"], tokenizers)
            files += 1
            total.add(counts)
            print(
                f"{path.stem:34} {counts.changes:7d} {counts.inside_c:9d} {counts.inside_a:9d} "
                f"{counts.fragments:9d} {counts.backchannel_fragments:7d}"
            )
            if args.verbose:
                print("\n".join(counts.places))
        print("-" * len(header))
        print(
            f"{f'TOTAL ({files} files)':34} {total.changes:7d} {total.inside_c:9d} {total.inside_a:9d} "
            f"{total.fragments:9d} {total.backchannel_fragments:7d}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

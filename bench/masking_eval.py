"""Personal-data detection on the masking corpus (issue 24), its speed on a one-hour transcript, and
the cost of adding many spans to a publication copy (issue 23).

    python -m bench.masking_eval --half tune      # recall per kind and false masks, tuning half
    python -m bench.masking_eval --half holdout   # the untouched half
    python -m bench.masking_eval --speed          # detection time of ~20k characters, span additions

A gold span is found when candidate spans cover at least 80 % of its characters; a must-stay span is
falsely masked when any of its characters is covered. Each line is one document, as ``kiroku mask``
reads it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from service.personal_data import KINDS, detect, detect_texts
from service.personal_data.nlp import pipeline

CORPUS = Path(__file__).parent / "masking_corpus"


def load(half: str) -> list[dict[str, Any]]:
    path = CORPUS / half / "corpus.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(lines: list[dict[str, Any]], verbose: bool = False) -> dict[str, Any]:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    keep_total = keep_masked = 0
    misses: list[str] = []
    false: list[str] = []
    for item in lines:
        text = item["text"]
        covered = {k for c in detect(text) for k in range(c.start, c.end)}
        for span in item["spans"]:
            chars = range(span["start"], span["end"])
            total[span["kind"]] += 1
            if sum(k in covered for k in chars) >= 0.8 * len(chars):
                found[span["kind"]] += 1
            else:
                misses.append(f"{span['kind']}: {text[span['start'] : span['end']]} | {text}")
        for span in item["keep"]:
            keep_total += 1
            if any(k in covered for k in range(span["start"], span["end"])):
                keep_masked += 1
                false.append(f"{span['what']}: {text[span['start'] : span['end']]} | {text}")
    if verbose:
        print("\n".join(["-- missed", *misses, "-- masked but must stay", *false]))
    return {"found": found, "total": total, "keep_total": keep_total, "keep_masked": keep_masked}


def table(result: dict[str, Any]) -> str:
    found, total = result["found"], result["total"]
    rows = ["| kind | found / gold | recall |", "| --- | --- | --- |"]
    for kind in KINDS:
        if total[kind]:
            rows.append(f"| {kind} | {found[kind]} / {total[kind]} | {found[kind] / total[kind]:.3f} |")
    all_found, all_total = sum(found.values()), sum(total.values())
    rows.append(f"| **all** | {all_found} / {all_total} | {all_found / all_total:.3f} |")
    rate = result["keep_masked"] / max(1, result["keep_total"])
    rows.append(f"| must stay, masked | {result['keep_masked']} / {result['keep_total']} | {rate:.3f} |")
    return "\n".join(rows)


def one_hour(chars: int = 20_000) -> list[str]:
    """Utterances of about ``chars`` characters from both halves of the corpus, in a fixed order."""
    lines = [item["text"] for half in ("tune", "holdout") for item in load(half)]
    r = random.Random(1)
    out: list[str] = []
    while sum(len(t) for t in out) < chars:
        text = r.choice(lines)
        out += [part + "。" for part in text.split("。") if part]
    return out


def speed() -> None:
    started = time.perf_counter()
    pipeline()  # GiNZA, loaded once per process
    detect("名前は山本です。")  # and the analyser
    print(f"model load: {time.perf_counter() - started:.2f} s")
    utterances = one_hour()
    started = time.perf_counter()
    found = detect_texts(utterances)
    elapsed = time.perf_counter() - started
    chars = sum(len(t) for t in utterances)
    print(f"one-hour transcript: {chars} characters, {len(utterances)} utterances, "
          f"{sum(len(f) for f in found)} candidates in {elapsed:.2f} s")  # fmt: skip
    from service.masking import add_span

    for n in (1000, 2000, 4000, 8000):
        fields = {f"segment.{k}": "電話は06-6208-7111です" for k in range(n)}
        copy: dict[str, Any] = {"spans": [], "next_id": 1}
        order = list(range(n))
        random.Random(2).shuffle(order)
        started = time.perf_counter()
        for k in order:
            add_span(copy, fields, f"segment.{k}", 3, 15)
        print(f"add {n} spans: {time.perf_counter() - started:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=["tune", "holdout"])
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list misses and false masks (tune only)")
    args = parser.parse_args()
    if args.half:
        lines = load(args.half)
        result = evaluate(lines, verbose=args.verbose and args.half == "tune")
        print(f"{args.half}: {len(lines)} lines")
        print(table(result))
    if args.speed:
        speed()


if __name__ == "__main__":
    main()

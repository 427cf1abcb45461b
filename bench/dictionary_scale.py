"""Benchmark: a 5,000-term dictionary's load time and its cost on transcription.

    python bench/dictionary_scale.py --out /tmp/kiroku-dict-bench [--only dev_meeting01_jotokusei ...]

Builds a dictionary of the eval set's terms plus generated ones (random kanji spellings with
random kana readings, like a large department list) up to 5,000 terms, writes it as CSV, then
measures: CSV parsing, building the corrector, and wall time of the pipeline on the dev set
with no dictionary and with the 5,000 terms (in one run, alternating per file). Both runs are
scored with the eval set's terms.csv so the large dictionary's effect on CER and term recall shows.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import time
from pathlib import Path

from dictionaries.correction import Corrector
from dictionaries.csv_io import read_csv, write_csv
from dictionaries.terms import Term
from transcriber.formats import to_json
from transcriber.pipeline import Pipeline

_KANJI = "山川田中村本大小野原西東北南高橋石井上下森林木松竹梅桜岡島崎谷沢池宮神寺坂浜港町市区局課室所"
_KANA = "かきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"


def generated_terms(count: int, seed: int = 20261122) -> list[Term]:
    rng = random.Random(seed)
    terms: dict[str, Term] = {}
    while len(terms) < count:
        spelling = "".join(rng.choice(_KANJI) for _ in range(rng.randint(2, 4)))
        reading = "".join(rng.choice(_KANA) for _ in range(rng.randint(3, 8)))
        terms.setdefault(spelling, Term(spelling, reading, (), "生成"))
    return list(terms.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/dev")
    parser.add_argument("--out", type=Path, default=Path("/tmp/kiroku-dict-bench"))
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the order alternates between rounds")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    real = read_csv(args.set / "terms.csv").terms
    big = real + generated_terms(args.size - len(real))
    big_csv = args.out / "terms_5000.csv"
    big_csv.write_bytes(write_csv(big))

    started = time.perf_counter()
    parsed = read_csv(big_csv).terms
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    Corrector(parsed)
    build_s = time.perf_counter() - started
    print(f"dictionary: {len(parsed)} terms | CSV parse {parse_s:.3f} s | corrector build {build_s:.3f} s")

    rows = [r for r in csv.DictReader((args.set / "manifest.csv").open()) if not args.only or r["stem"] in args.only]
    pipeline = Pipeline()
    totals = {"none": 0.0, "5000": 0.0}
    for kind in totals:
        (args.out / kind).mkdir(exist_ok=True)
    # Diarization runs beside recognition on the same cores, and this machine's speed wanders (one
    # run of a file was seen taking 1.5x another): each file is run both ways in every round, in
    # alternating order, and the headline compares each file's fastest run each way (as timeit does).
    times: dict[str, dict[str, list[float]]] = {"none": {}, "5000": {}}
    ratios = []
    stages = {"recognition": 0.0, "corrections": 0.0, "second_opinions": 0.0}
    for round_number in range(args.repeat):
        this_round = {"none": 0.0, "5000": 0.0}
        for row in rows:
            kinds = [("none", None), ("5000", parsed)]
            for kind, terms in kinds if round_number % 2 == 0 else kinds[::-1]:
                started = time.perf_counter()
                transcript, report = pipeline.run_with_report(args.set / row["file"], terms=terms)
                took = time.perf_counter() - started
                this_round[kind] += took
                times[kind].setdefault(row["stem"], []).append(took)
                if terms:
                    for stage in stages:
                        stages[stage] += report.timings.get(stage, 0.0)
                (args.out / kind / f"{row['stem']}.json").write_text(to_json(transcript))
            print(
                f"round {round_number + 1} {row['stem']:<34} cumulative: none {this_round['none']:7.1f} s"
                f"   5000 terms {this_round['5000']:7.1f} s",
                flush=True,
            )
        ratios.append(this_round["5000"] / this_round["none"])
        for kind in totals:
            totals[kind] += this_round[kind]
    print("\nrounds: " + ", ".join(f"{r:.3f}" for r in ratios))
    print(f"wall time with 5,000 terms / without, all rounds: {totals['5000'] / totals['none']:.3f}")
    best = {kind: sum(min(runs) for runs in times[kind].values()) for kind in times}
    print(
        f"wall time with 5,000 terms / without, each file's fastest of {args.repeat}: "
        f"{best['5000'] / best['none']:.3f} ({best['5000']:.1f} s / {best['none']:.1f} s)"
    )
    # The same runs' dictionary stages against their own recognition: free of run-to-run noise.
    added = stages["corrections"] + stages["second_opinions"]
    print(
        f"dictionary stages with 5,000 terms: corrections {stages['corrections']:.1f} s + second opinions "
        f"{stages['second_opinions']:.1f} s = {added / stages['recognition']:.1%} of recognition "
        f"({stages['recognition']:.1f} s)"
    )
    score = args.set.parent / "score.py"
    for kind in totals:
        print(f"\n== dictionary: {kind} ==", flush=True)
        subprocess.run([sys.executable, str(score), "--ref", str(args.set), "--hyp", str(args.out / kind)], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

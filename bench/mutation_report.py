"""Killed / survived / equivalent mutants per module, from the last ``mutmut run`` (``make mutation``).

Run from the repository root after ``mutmut run``; reads mutmut's results in ``mutants/``.

- **killed**: a test failed on the mutant (one that hangs on it, mutmut's "timeout", counts too: the
  user would notice a transcription that never ends).
- **equivalent**: a surviving mutant that no behaviour can tell from the original. The line it changes
  says so and why, in a comment ``# equivalent mutants (N): <why>`` at its end (or alone on the line
  above it), N being how many of that line's mutants survive. The line's other mutants are still run
  (they must be killed), and the count is checked: when a different number survives, the comment is
  stale and they all count as survived.
- **survived**: every other mutant that no test failed on, including those no test reached (mutmut's
  "no tests") or that mutmut could not judge. Each is a gap to close with a test.

% killed = killed / (total - equivalent). ``--show`` prints the diff of every survivor (to triage
them), ``--fail-under N`` exits 1 when a module is below N %.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check"}
MARK = re.compile(r"# equivalent mutants? \((\d+)\): \S")


@dataclass
class Row:
    module: str
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    not_run: int = 0  # not tried yet: a run stopped early, or run for some mutants only
    survivors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.equivalent + self.not_run

    @property
    def share_killed(self) -> float:
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else 100.0


def modules(pyproject: Path = Path("pyproject.toml")) -> list[str]:
    return list(tomllib.loads(pyproject.read_text("utf-8"))["tool"]["mutmut"]["only_mutate"])


def marked_lines(path: str) -> Counter[str]:
    """The source lines that declare equivalent mutants (stripped text → how many). The comment ends
    the line it is about, or stands alone on the line above it (where the line has no room)."""
    marks: Counter[str] = Counter()
    lines = Path(path).read_text("utf-8").splitlines()
    for number, line in enumerate(lines):
        if found := MARK.search(line):
            alone = line.strip().startswith("#") and number + 1 < len(lines)
            marks[(lines[number + 1] if alone else line).strip()] += int(found.group(1))
    return marks


def diff(name: str, path: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(name, path=path)


def changed_lines(text: str) -> set[str]:
    return {line[1:].strip() for line in text.splitlines() if line.startswith("-") and not line.startswith("---")}


def row(path: str) -> Row | None:
    from mutmut.stats import status_by_exit_code

    meta = Path("mutants") / f"{path}.meta"
    if not meta.exists():
        return None
    exit_codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    result = Row(module=path)
    marks = marked_lines(path)
    on_marked: dict[str, list[str]] = {line: [] for line in marks}
    for name in sorted(exit_codes, key=_natural):
        status = status_by_exit_code[exit_codes[name]]
        if status in KILLED:
            result.killed += 1
            continue
        if status == "not checked":
            result.not_run += 1
            continue
        lines = changed_lines(diff(name, path)) & set(marks) if marks else set()
        if lines:
            on_marked[min(lines)].append(name)
        else:
            result.survived += 1
            result.survivors.append(name)
    for line, names in on_marked.items():
        if len(names) == marks[line]:
            result.equivalent += len(names)
            continue
        result.survived += len(names)
        result.survivors += names
        result.warnings.append(f"marked {marks[line]} equivalent, {len(names)} survive (re-triage): {line}")
    return result


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("_")
    return stem, int(number) if number.isdigit() else 0


def table(rows: list[Row]) -> str:
    lines = [
        "| module | killed | survived | equivalent | total | % killed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        share = f"{r.share_killed:.1f} %" if r.killed + r.survived else "not run"
        lines.append(f"| {r.module} | {r.killed} | {r.survived} | {r.equivalent} | {r.total} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 when a module is below this % killed")
    args = parser.parse_args(argv)
    rows, missing = [], []
    for path in modules():
        r = row(path)
        if r is None:
            missing.append(path)
        else:
            rows.append(r)
    if not rows:
        print("No results in mutants/: run `make mutation` (or `mutmut run`) first.", file=sys.stderr)
        return 1
    print(table(rows))
    for path in missing:
        print(f"{path}: no results (not run)")
    for r in rows:
        if r.not_run:
            print(f"{r.module}: {r.not_run} mutants not run yet (not in the figures)")
    for r in rows:
        for warning in r.warnings:
            print(f"{r.module}: {warning}")
    if args.show:
        for r in rows:
            for name in r.survivors:
                print(f"\n# {name}\n{diff(name, r.module)}")
    if args.fail_under is not None:
        low = [r.module for r in rows if r.share_killed < args.fail_under or r.not_run] + missing
        if low:
            print(f"below {args.fail_under:g} % killed, or not run: {', '.join(low)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

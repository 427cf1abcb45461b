"""`kiroku transcribe --dictionary`: a place name the recogniser cannot know is written right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_kiroku

pytestmark = pytest.mark.slow
PLACES = FIXTURES / "ja_placenames.flac"  # 「くまたの交差点と、ひらのくの駅前に、街路灯を増やします。」


def test_a_term_is_fixed_only_with_the_dictionary(tmp_path: Path) -> None:
    plain = run_kiroku("transcribe", str(PLACES), "-q")
    assert plain.returncode == 0
    assert "杭全" not in plain.stdout and "平野区" not in plain.stdout

    terms = tmp_path / "用語.csv"
    terms.write_bytes("用語,読み,誤表記,分類\n杭全,くまた,,地名\n平野区,ひらのく,,区\n".encode("cp932"))
    out = tmp_path / "out.json"
    fixed = run_kiroku("transcribe", str(PLACES), "-q", "--dictionary", str(terms), "-o", str(out))
    assert fixed.returncode == 0, fixed.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    text = "".join(s["text"] for s in data["segments"])
    assert "杭全" in text and "平野区" in text
    # Each change is recorded so the editor can show and undo it.
    records = {c["after"]: c for c in data["corrections"]}
    assert set(records) == {"杭全", "平野区"}
    segment = data["segments"][records["杭全"]["segment"]]["text"]
    assert segment[records["杭全"]["start"] : records["杭全"]["end"]] == "杭全"


def test_the_built_in_city_dictionary_by_name() -> None:
    result = run_kiroku("transcribe", str(PLACES), "-q", "-d", "city")
    assert result.returncode == 0, result.stderr
    assert "平野区" in result.stdout


def test_bad_rows_are_warned_and_an_unreadable_dictionary_stops(tmp_path: Path) -> None:
    partial = tmp_path / "partial.csv"
    partial.write_text("term,reading\n杭全,くまた\n,だれ\n", encoding="utf-8")
    warned = run_kiroku("transcribe", str(PLACES), "-q", "-d", str(partial))
    assert warned.returncode == 0 and "3行目" in warned.stderr and "杭全" in warned.stdout

    missing = run_kiroku("transcribe", str(PLACES), "-q", "-d", str(tmp_path / "none.csv"))
    assert missing.returncode == 10 and "用語辞書を読み込めません" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_second_opinion_budget_must_be_a_share() -> None:
    result = run_kiroku("transcribe", str(PLACES), "-q", "--redecode-share", "2")
    assert result.returncode == 2 and "redecode-share" in result.stderr

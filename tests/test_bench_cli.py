"""`kiroku bench` on one short clip: the table's shape and figures that agree with each other.

Speeds are not checked (they belong to the machine); what is checked is that every figure is
measured (positive), the derived ones follow from the measured ones, and the total adds up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiroku.bench_cli import COLUMNS
from tests.conftest import SINGLE, run_kiroku

pytestmark = pytest.mark.slow


def _table(stdout: str) -> list[dict[str, str]]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines), stdout
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == list(COLUMNS)
    assert set(lines[1].replace("|", "").split()) == {"---"}
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def test_the_table_has_one_row_per_recording_and_a_total() -> None:
    result = run_kiroku("bench", str(SINGLE))
    assert result.returncode == 0, result.stderr
    rows = _table(result.stdout)
    assert [row["recording"] for row in rows] == [SINGLE.stem, "all (1)"]
    clip, total = rows
    assert {k: v for k, v in clip.items() if k != "recording"} == {k: v for k, v in total.items() if k != "recording"}
    figures = {column: float(clip[column]) for column in COLUMNS[1:]}
    assert figures["audio s"] == pytest.approx(9.45, abs=0.1)
    assert all(value > 0 for value in figures.values()), figures  # diarization runs by default
    assert figures["RTF"] == pytest.approx(figures["pipeline s"] / figures["audio s"], abs=0.01)
    assert figures["bare RTF"] == pytest.approx(figures["bare s"] / figures["audio s"], abs=0.01)
    assert figures["pipeline/bare"] == pytest.approx(figures["pipeline s"] / figures["bare s"], rel=0.1)
    assert figures["diarization %"] <= 100
    assert figures["peak RSS MB"] > 100  # the models alone take more
    # Progress and the set-up on stderr, the table alone on stdout.
    assert f"[1/1] {SINGLE.stem}" in result.stderr and "model whisper-base" in result.stderr


def test_json_output_adds_up(tmp_path: Path) -> None:
    second = tmp_path / "二本目.flac"
    second.write_bytes(SINGLE.read_bytes())
    result = run_kiroku("bench", str(SINGLE), str(second), "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["schema"] == "kiroku.bench/1"
    assert report["setup"]["diarizer"] != "off" and report["setup"]["rss_scope"] == "per recording"
    files, total = report["files"], report["total"]
    assert [f["name"] for f in files] == [SINGLE.stem, "二本目"]
    for item in files:
        assert item["audio_s"] == pytest.approx(9.45, abs=0.1)
        assert item["pipeline_s"] > 0 and item["bare_s"] > 0 and item["peak_rss_mb"] > 0
        assert 0 < item["diarization_s"] <= item["pipeline_s"]  # it runs inside the pipeline's time
        assert item["rtf"] == pytest.approx(item["pipeline_s"] / item["audio_s"], abs=1e-3)
        assert item["ratio"] == pytest.approx(item["pipeline_s"] / item["bare_s"], abs=1e-3)
    for key in ("audio_s", "pipeline_s", "bare_s", "diarization_s"):
        assert total[key] == pytest.approx(sum(f[key] for f in files))
    assert total["peak_rss_mb"] == max(f["peak_rss_mb"] for f in files)
    assert total["ratio"] == pytest.approx(total["pipeline_s"] / total["bare_s"], abs=1e-3)


def test_unusable_input_fails_before_the_models_load(tmp_path: Path) -> None:
    missing = run_kiroku("bench", str(tmp_path / "ない.wav"))
    assert missing.returncode == 3 and missing.stdout == ""
    assert missing.stderr.startswith("kiroku: 入力ファイルを読み込めません")
    text = tmp_path / "メモ.wav"
    text.write_text("録音ではありません")
    assert run_kiroku("bench", str(text)).returncode == 4
    assert run_kiroku("bench", "--set", str(tmp_path / "none")).returncode == 3
    empty = tmp_path / "empty-set"
    empty.mkdir()
    assert run_kiroku("bench", "--set", str(empty)).returncode == 3
    both = run_kiroku("bench", str(SINGLE), "--set", str(empty))
    assert both.returncode == 2 and "--set" in both.stderr
    assert run_kiroku("bench", "--limit", "0").returncode == 2

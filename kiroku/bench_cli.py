"""``kiroku bench``: one table of how the pipeline performs on this machine (``kiroku.benchmark``)."""

from __future__ import annotations

import inspect
import json
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from transcriber.errors import InputNotReadable, KirokuError

if TYPE_CHECKING:
    from kiroku.benchmark import BenchItem, BenchReport, FileResult

# The evaluation set next to the checkout (../shared/eval/dev), where the project's bench scripts look too.
DEFAULT_SET = Path(__file__).resolve().parents[2] / "shared/eval/dev"
COLUMNS = (
    "recording",
    "audio s",
    "pipeline s",
    "RTF",
    "bare s",
    "bare RTF",
    "pipeline/bare",
    "diarization s",
    "diarization %",
    "peak RSS MB",
)


def _cells(result: FileResult) -> list[str]:
    return [
        result.name,
        f"{result.audio_s:.1f}",
        f"{result.pipeline_s:.1f}",
        f"{result.rtf:.3f}",
        f"{result.bare_s:.1f}",
        f"{result.bare_rtf:.3f}",
        f"{result.ratio:.2f}",
        f"{result.diarization_s:.1f}",
        f"{100 * result.diarization_share:.0f}",
        f"{result.peak_rss_mb:.0f}",
    ]


def render_table(report: BenchReport) -> str:
    """A Markdown table (readable as plain text too): one row per recording, then the total."""
    rows = [_cells(f) for f in report.files] + [_cells(report.total)]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(" --- " for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _items(audio: list[Path], eval_dir: Path | None, limit: int | None) -> list[BenchItem]:
    from kiroku.benchmark import BenchItem, eval_set
    from transcriber.audio import probe

    if audio:
        items = [BenchItem(path.stem, path) for path in audio]
    else:
        folder = eval_dir or DEFAULT_SET
        if not folder.is_dir():
            raise InputNotReadable(f"{folder}: フォルダがありません / not a folder")
        items = eval_set(folder)
        if not items:
            raise InputNotReadable(f"{folder}: 録音がありません / no recordings (manifest.csv or audio files)")
    items = items[:limit] if limit else items
    for item in items:  # an unusable file fails now, not after the models have loaded
        probe(item.path)
    return items


def bench(
    audio: Annotated[
        list[Path] | None, typer.Argument(help="測る録音 (省略時は評価セット) / recordings (default: the eval set)")
    ] = None,
    eval_dir: Annotated[
        Path | None,
        typer.Option(
            "--set",
            envvar="KIROKU_EVAL_SET",
            help=f"評価セットのフォルダ (manifest.csv) / eval set folder (default {DEFAULT_SET})",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="最初の N 件だけ / only the first N recordings")] = None,
    model: Annotated[
        str | None, typer.Option(help="モデル / model directory or name [env KIROKU_ASR_MODEL; default whisper-base]")
    ] = None,
    diarization: Annotated[str, typer.Option(help="auto | embedded | pyannote | off")] = "auto",
    as_json: Annotated[
        bool, typer.Option("--json", help="表の代わりに JSON を出力 / JSON instead of the table")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="進捗を表示しない / no progress on stderr")] = False,
) -> None:
    """この機械での処理速度とメモリを測ります / Measure speed and memory of the pipeline on this machine.

    For each recording: the whole pipeline (decode, speech detection, recognition with word timings,
    diarization) and bare faster-whisper (model.transcribe(file, beam_size=5)) on the same loaded
    model, taking turns going first. Columns: RTF = processing time / audio length; pipeline/bare =
    the ratio of the two times; diarization s = wall time of the diarization stage, which runs on its
    own thread beside recognition, and diarization % its share of the pipeline's time; peak RSS = the
    process's resident-memory high-water mark during that recording's pipeline run (VmHWM, reset
    per recording; the total row shows the largest). Progress goes to stderr, the table to stdout.

    Exit codes: 0 done, 2 wrong usage, 3 input or set folder not readable, 4–7 a recording is not
    usable audio, 9 a model is missing, 130 interrupted.
    """
    from kiroku.benchmark import run_bench
    from transcriber.pipeline import PipelineOptions

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if audio and eval_dir is not None:
        typer.echo("kiroku: 録音ファイルと --set は同時に指定できません / give files or --set, not both", err=True)
        raise typer.Exit(2)

    def say(text: str) -> None:
        if not quiet:
            typer.echo(text, err=True)

    def progress(done: int, count: int, item: BenchItem, result: FileResult) -> None:
        say(
            f"[{done}/{count}] {item.name}: {result.audio_s:.1f} s of audio, pipeline {result.pipeline_s:.1f} s, "
            f"bare {result.bare_s:.1f} s, diarization {result.diarization_s:.1f} s"
        )

    try:
        items = _items(audio or [], eval_dir, limit)
        say(f"kiroku bench: {len(items)} 件 / recordings; loading the models")
        report = run_bench(items, PipelineOptions(model=model, diarization=diarization), progress)
    except KirokuError as error:
        typer.echo(f"kiroku: {error.message}", err=True)
        raise typer.Exit(error.exit_code) from None
    except ValueError as error:  # a bad option value (diarization backend)
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("kiroku: 中断しました / interrupted", err=True)
        raise typer.Exit(130) from None
    setup = report.setup
    say(
        f"model {setup['model']} ({setup['device']}, {setup['compute_type']}, {setup['cpu_threads']} threads), "
        f"diarizer {setup['diarizer']}, {setup['usable_cpus']} usable CPUs, peak RSS {setup['rss_scope']}"
    )
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(render_table(report))


# The docstring's paragraphs as single lines: the help screen wraps them to the terminal itself.
HELP = re.sub(r"(?<!\n)\n(?!\n)", " ", inspect.cleandoc(bench.__doc__ or ""))

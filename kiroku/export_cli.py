"""``kiroku export``: a transcript (or saved minutes) as the record a city files, for scripts and batches.

The same code path as the API's export (``service.exports.export``): the kind's layout, 整文 with
``--tidy``, timestamps with ``--timestamps``, header fields with ``--field 会議名=…``.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kiroku.output import check_writable
from transcriber.errors import OutputNotWritable

HELP = (
    "文字起こし (JSON) を記録 (会議録・面談記録・交渉記録・電話対応記録) として書き出します"
    " / write a transcript as the city's record (docx, txt, srt, vtt, json)."
)


class RecordKind(StrEnum):
    meeting = "meeting"
    interview = "interview"
    negotiation = "negotiation"
    phone = "phone"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"kiroku: {message}", err=True)
    return typer.Exit(code)


def _read(path: Path) -> dict[str, Any]:
    """A kiroku.transcript/1 file, or minutes as the API gives them ({"header", "transcript"})."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _fail(f"{path}: 読めません / cannot read ({error.strerror})") from None
    except ValueError:
        raise _fail(f"{path}: JSON ではありません / not JSON") from None
    if not isinstance(body, dict):
        raise _fail(f"{path}: 文字起こしの JSON ではありません / not a transcript")
    if "transcript" in body:
        return {"header": dict(body.get("header") or {}), "transcript": body["transcript"]}
    return {"header": {}, "transcript": body}


def _write(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _fail(f"{path}: {error.strerror}", 1) from None


def export_command(
    transcript: Annotated[
        Path, typer.Argument(help="文字起こしの JSON (kiroku transcribe の出力か、保存した議事録)", show_default=False)
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="書き出すファイル (.docx/.txt/.srt/.vtt/.json)")],
    kind: Annotated[RecordKind, typer.Option("--kind", help="記録の種類")] = RecordKind.meeting,
    tidy: Annotated[bool, typer.Option("--tidy", help="整文: えー・あのー等と言い直しを除く")] = False,
    timestamps: Annotated[bool, typer.Option("--timestamps", help="発言の時刻を入れる")] = False,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="記録の項目 (例: 会議名=予算説明会, staff=山田)。繰り返し可")
    ] = None,
    template: Annotated[Path | None, typer.Option("--template", help="Word のひな形 (.docx)")] = None,
) -> None:
    from pydantic import ValidationError

    from service.exports import FORMATS, ExportOptions, export
    from service.minutes import Minutes
    from service.records.fields import field_by_name

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise _fail(f"{output}: 拡張子は {', '.join(FORMATS)} のどれかにしてください / unknown format")
    if template is not None and not template.is_file():
        raise _fail(f"{template}: ひな形がありません / no such template")
    try:
        check_writable(output)
    except OutputNotWritable as error:
        raise _fail(error.message, error.exit_code) from None
    body = _read(transcript)
    for item in field or []:
        name, equals, value = item.partition("=")
        key = field_by_name(kind.value, name)
        if not equals or key is None:
            raise _fail(f"--field {item}: 「項目=値」の形で、{kind.value} の項目名を指定してください / unknown field")
        body["header"][key] = value
    try:
        minutes = Minutes.model_validate(body)
    except ValidationError as error:
        problems = error.error_count()
        raise _fail(
            f"{transcript}: 文字起こしの形が正しくありません / invalid transcript ({problems} errors)"
        ) from None
    options = ExportOptions(tidy=tidy, timestamps=timestamps if fmt in ("docx", "txt") else None)
    data = export(minutes, fmt, kind.value, name=transcript.stem, template=template, options=options)
    _write(output, data)
    typer.echo(f"{output} を書き出しました / written", err=True)

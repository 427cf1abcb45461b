"""``kiroku voices``: known speakers named by voice, on a registry file (for scripts and evaluation).

``enroll`` adds a named person's voice (from one speaker of a finished transcript) to the registry;
``name`` writes a transcript with ``speakers[].name`` and ``speakers[].voice_score`` set where a
profile matched. Exit status: 0 done; 1 refused (too little speech, no consent, unknown speaker);
2 bad arguments; 3 an input could not be read; 8 the output could not be written; 9 the speaker
encoder is missing.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from kiroku.output import check_writable, write_atomically
from transcriber.errors import InputNotReadable, KirokuError

HELP = "声で話者を名付けます (本人の同意のある職員のみ登録) / name known speakers by voice, with consent."

voices_app = typer.Typer(help=HELP, no_args_is_help=True)


def _fail(error: KirokuError) -> typer.Exit:
    typer.echo(f"kiroku: {error.message}", err=True)
    return typer.Exit(error.exit_code)


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"kiroku: {message}", err=True)
    return typer.Exit(1)


def _read_transcript(path: Path) -> object:
    from pydantic import ValidationError

    from transcriber.transcript import Transcript

    try:
        return Transcript.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise InputNotReadable(f"{path.name}: {str(error).splitlines()[0]}") from error


@voices_app.command("enroll")
def enroll(
    registry: Annotated[Path, typer.Argument(help="登録ファイル (なければ作成) / registry JSON, created if missing")],
    name: Annotated[str, typer.Argument(help="氏名 / the person's name")],
    audio: Annotated[Path, typer.Argument(help="録音 / the recording")],
    transcript_file: Annotated[Path, typer.Option("--transcript", "-t", help="その文字起こし (JSON)")],
    speaker: Annotated[str, typer.Option("--speaker", "-s", help="本人の話者 ID (例: S2)")],
    consent: Annotated[str, typer.Option("--consent", help="同意の記録 (必須) / the consent record")],
    title: Annotated[str | None, typer.Option("--title", help="役職 / title")] = None,
) -> None:
    """話者の声を登録します (単独の発言 20 秒以上) / Enrol one speaker's voice (>= 20 s of clean speech)."""
    from transcriber.audio import decode
    from transcriber.transcript import Transcript
    from transcriber.voices import Registry, VoiceEncoder, VoiceError, enrolment_embeddings

    if not consent.strip():
        raise _refuse("同意の記録 (--consent) が必要です / --consent must not be empty")
    try:
        transcript = _read_transcript(transcript_file)
        assert isinstance(transcript, Transcript)
        check_writable(registry)
        try:
            book = Registry.read(registry)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputNotReadable(f"{registry.name}: {error}") from error
        embeddings = enrolment_embeddings(VoiceEncoder.load(), decode(audio), transcript, speaker)
        profile = book.enrol(name, embeddings, consent, enrolled_by=getpass.getuser(), title=title)
        write_atomically(registry, book.to_json())
    except VoiceError as error:
        raise _refuse(str(error)) from None
    except KirokuError as error:
        raise _fail(error) from None
    typer.echo(f"{profile.name}: {len(profile.embeddings)} embeddings", err=True)


@voices_app.command("name")
def name_speakers(
    registry: Annotated[Path, typer.Argument(help="登録ファイル / registry JSON")],
    transcript_file: Annotated[Path, typer.Argument(help="文字起こし (JSON)")],
    audio: Annotated[Path, typer.Option("--audio", "-a", help="その録音 / the recording")],
    output: Annotated[Path, typer.Option("-o", "--output", help="出力先 / output JSON")],
) -> None:
    """登録済みの声に一致した話者に名前を付けます / Name speakers whose voice matches a profile."""
    from transcriber.audio import decode
    from transcriber.formats import to_json
    from transcriber.transcript import Transcript
    from transcriber.voices import Registry, VoiceEncoder, VoiceError, apply_names, match, speaker_embeddings

    try:
        transcript = _read_transcript(transcript_file)
        assert isinstance(transcript, Transcript)
        if not registry.is_file():
            raise InputNotReadable(f"{registry.name}: 登録ファイルがありません / no such registry")
        try:
            book = Registry.read(registry)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputNotReadable(f"{registry.name}: {error}") from error
        check_writable(output)
        named = transcript
        if book.profiles:
            embeddings = speaker_embeddings(VoiceEncoder.load(), decode(audio), transcript)
            chosen = match(embeddings, [p.centroid() for p in book.profiles])
            named = apply_names(transcript, chosen, book.profiles)
        write_atomically(output, to_json(named))
    except VoiceError as error:
        raise _refuse(str(error)) from None
    except KirokuError as error:
        raise _fail(error) from None

"""Audio on disk: uploads stream into the storage directory, never whole into memory."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

from api.errors import ApiError
from transcriber.audio import AudioInfo, probe
from transcriber.errors import KirokuError

CHUNK = 1024 * 1024
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")


def audio_dir(storage: Path) -> Path:
    path = storage / "audio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploads_dir(storage: Path) -> Path:
    path = storage / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_audio_name(original_filename: str) -> str:
    """A server-chosen name: the user's file name never becomes a path (no traversal)."""
    suffix = Path(original_filename).suffix.lower()
    return uuid.uuid4().hex + (suffix if _SAFE_SUFFIX.match(suffix) else "")


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"ファイルが大きすぎます(上限 {limit / 1024**3:.1f} GB)。")


def stream_to_file(source: BinaryIO, target: Path, limit: int) -> int:
    """Copy in 1 MB chunks; a file over the limit is removed and refused."""
    written = 0
    try:
        with target.open("wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise too_large(limit)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return written


def probe_upload(path: Path) -> AudioInfo:
    """Check that an upload is audio we can decode; a refused file is deleted."""
    try:
        info = probe(path)
    except KirokuError as error:
        path.unlink(missing_ok=True)
        raise ApiError(415, "not_audio", f"{error.ja}。対応形式: wav, flac, mp3, m4a, ogg, webm, wma, mp4") from error
    # A zero duration here may only mean the header does not say (browser webm); the worker decides.
    return info


def remove_audio(storage: Path, relative: str | None) -> None:
    if relative:
        (storage / relative).unlink(missing_ok=True)

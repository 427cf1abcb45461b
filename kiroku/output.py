"""Writing results so a failed run never leaves a partial file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from transcriber.errors import OutputNotWritable


def check_writable(path: Path) -> None:
    """Fail before hours of work if the output cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputNotWritable(f"{path} はディレクトリです / is a directory")
    if not folder.is_dir():
        raise OutputNotWritable(f"{folder}: フォルダがありません / no such folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputNotWritable(f"{path}: 書き込み権限がありません / permission denied")


def write_atomically(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputNotWritable(f"{path}: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputNotWritable(f"{path}: {exc.strerror}") from exc

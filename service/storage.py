"""Audio on disk: uploads stream into the storage directory, never whole into memory."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

from service.errors import ServiceError
from transcriber.audio import AudioInfo, probe
from transcriber.errors import AudioTooLong, KirokuError

CHUNK = 1024 * 1024
# The stored file keeps its extension only when it is one of these: FFmpeg picks some demuxers by the
# extension alone, and an "audio" file stored as .m3u8 would be read as a playlist of other local files.
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".mp3", ".m4a", ".aac", ".mp4", ".mov", ".ogg", ".oga", ".opus", ".webm", ".weba"}
    | {".wma", ".mka", ".mkv", ".3gp", ".amr", ".aif", ".aiff", ".caf"}
)
# Not in a file name shown to people: control characters, non-characters and the marks that reverse
# the direction of text (U+202E makes "gnp.exe" look like "exe.png").
_NAME_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
MAX_NAME = 300  # Recording.original_filename
# The form's other fields of an upload: at most this many, each at most this large.
MAX_FORM_FIELDS, MAX_FORM_PART = 64, 64 * 1024
FORM_ALLOWANCE = (MAX_FORM_FIELDS + 1) * MAX_FORM_PART  # those fields and the multipart framing


# Recordings are personal data: only the service's own account reads them (web uploads, device
# uploads and the database alike), whatever the umask of the process that writes them.
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def private_dir(path: Path) -> Path:
    """``path`` made if missing, readable by the owner only (an existing one is tightened too)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    info = path.stat()
    if info.st_mode & 0o777 != PRIVATE_DIR and info.st_uid == os.geteuid():  # another's: left as it is
        path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """``path`` made if missing (empty), readable and writable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def audio_dir(storage: Path) -> Path:
    private_dir(storage)
    return private_dir(storage / "audio")


def uploads_dir(storage: Path) -> Path:
    private_dir(storage)
    return private_dir(storage / "uploads")


def tighten_storage(storage: Path) -> int:
    """Make files stored before this rule owner-only (an upgrade from 0644). Returns files changed."""
    changed = 0
    for folder in (audio_dir(storage), uploads_dir(storage)):
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mode & 0o077:
                    os.chmod(entry.path, PRIVATE_FILE)
                    changed += 1
    return changed


def original_name(filename: str | None) -> str:
    """The user's file name, kept as metadata only: its last part after ``/`` or ``\\`` (browsers on
    Windows may send the whole local path, with the user's name in it), without control characters,
    at most 300 characters with its extension kept."""
    name = _NAME_JUNK.sub("", re.split(r"[/\\]", filename or "")[-1]).strip()
    if name.strip(".") == "":
        name = "recording"
    if len(name) > MAX_NAME:
        suffix = Path(name).suffix if len(Path(name).suffix) <= 10 else ""
        name = name[: MAX_NAME - len(suffix)] + suffix
    return name


def new_audio_name(original_filename: str) -> str:
    """A server-chosen name: the user's file name never becomes a path (no traversal)."""
    suffix = Path(original_filename).suffix.lower()
    return uuid.uuid4().hex + (suffix if suffix in AUDIO_SUFFIXES else "")


def too_large(limit: int) -> ServiceError:
    return ServiceError(413, "too_large", f"ファイルが大きすぎます(上限 {_size(limit)})。")


def _size(limit: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if limit >= size:
            return f"{limit / size:.1f} {unit}"
    return f"{limit} バイト"


def stream_to_file(source: BinaryIO, target: Path, limit: int) -> int:
    """Copy the rest of ``source`` to ``target``; a file over the limit is removed and refused.

    A source with a file on disk (the web server's spooled upload) is copied by the kernel, not
    through Python: several 100 MB uploads finishing at once then cost no memory copies, and the
    other requests of the API do not wait for them."""
    try:
        with target.open("wb") as out:
            written = _copy_in_kernel(source, out, limit)
            if written is None:
                written = _copy_in_chunks(source, out, limit)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return written


def _copy_in_kernel(source: BinaryIO, out: BinaryIO, limit: int) -> int | None:
    """The copy by ``os.sendfile`` from the source's position; None when the source has no file."""
    if not getattr(source, "_rolled", True):  # a SpooledTemporaryFile still in memory: no file yet
        return None
    try:
        source.flush()
        fileno = source.fileno()
        start = source.tell()
        size = os.fstat(fileno).st_size - start
    except (AttributeError, OSError, ValueError):
        return None
    if size > limit:
        raise too_large(limit)
    written = 0
    while written < size:
        sent = os.sendfile(out.fileno(), fileno, start + written, min(size - written, 64 * CHUNK))
        if sent == 0:
            break
        written += sent
    source.seek(start + written)
    return written


def _copy_in_chunks(source: BinaryIO, out: BinaryIO, limit: int) -> int:
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        if written > limit:
            raise too_large(limit)
        out.write(chunk)
    return written


def probe_upload(path: Path) -> AudioInfo:
    """Check that an upload is audio we can decode; a refused file is deleted."""
    try:
        info = probe(path)
    except AudioTooLong as error:
        path.unlink(missing_ok=True)
        raise ServiceError(413, "too_long", f"{error.ja}。") from error
    except KirokuError as error:
        path.unlink(missing_ok=True)
        raise ServiceError(
            415, "not_audio", f"{error.ja}。対応形式: wav, flac, mp3, m4a, ogg, webm, wma, mp4"
        ) from error
    # A zero duration here may only mean the header does not say (browser webm); the worker decides.
    return info


def remove_audio(storage: Path, relative: str | None) -> None:
    if relative:
        (storage / relative).unlink(missing_ok=True)
        (storage / f"{relative}.peaks.json").unlink(missing_ok=True)  # the overview's peaks (service.peaks)

"""Which files in the watched folder are recordings, and when a recording is complete.

A recorder writes a file for as long as the meeting lasts; a partial file must never be sent. A file
counts as complete when its size and modification time have stayed the same for ``stable_seconds``
(watched from this process: a restart watches again), or at once when the recorder's marker file
(``FILE.wav.done`` or ``FILE.done`` for ``marker = ".done"``) is there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Seen:
    path: Path
    size: int
    mtime_ns: int


def recordings(folder: Path, extensions: frozenset[str], skip: Path | None = None) -> Iterator[Seen]:
    """Every file with an audio extension under ``folder`` (subfolders too), but hidden and temporary
    files, and the archive folder ``skip`` when it lies inside the watched one."""
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (skip is None or here / d != skip))
        for name in sorted(files):
            if name.startswith((".", "~$")) or Path(name).suffix.lower() not in extensions:
                continue
            path = here / name
            try:
                info = path.stat()
            except OSError:  # gone between the listing and now
                continue
            yield Seen(path, info.st_size, info.st_mtime_ns)


def marker_for(path: Path, marker: str) -> Path | None:
    """The recorder's "finished" marker of ``path``, if there is one."""
    if not marker:
        return None
    for candidate in (path.with_name(path.name + marker), path.with_suffix(marker)):
        if candidate.exists():
            return candidate
    return None


class Stability:
    """Remembers when each file last changed (size or time), to tell when it has stopped changing."""

    def __init__(self, stable_seconds: float, marker: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self.stable_seconds = stable_seconds
        self.marker = marker
        self.clock = clock
        self._last: dict[Path, tuple[int, int, float]] = {}

    def complete(self, seen: Seen) -> bool:
        """Whether the file is complete now; every call with a new size or time starts the wait again."""
        now = self.clock()
        before = self._last.get(seen.path)
        if before is None or before[:2] != (seen.size, seen.mtime_ns):
            self._last[seen.path] = (seen.size, seen.mtime_ns, now)
            changed = True
        else:
            changed = False
        if seen.size == 0:
            return False  # created, nothing written yet
        if self.marker:
            return marker_for(seen.path, self.marker) is not None
        return not changed and now - self._last[seen.path][2] >= self.stable_seconds

    def forget(self, path: Path) -> None:
        self._last.pop(path, None)

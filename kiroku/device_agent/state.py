"""The agent's memory: one SQLite database in its data folder, written before every step it takes, so
a restart, a power cut or ``kill -9`` goes on where it stopped and never sends a confirmed file again.

One row per version of a file (its path, size and modification time): a file that changes after it
was sent is a new recording. States:

- ``seen``: found, still being written (or not yet watched long enough);
- ``queued``: complete, waiting to be sent;
- ``sending``: being sent (after a restart: sent again under the same recording id, which resumes);
- ``confirmed``: the server has it (``recording_id``);
- ``refused``: the server refused it (not audio, too large …): not sent again unless the file changes;
- ``gone``: removed from the folder before it was sent.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SEEN, QUEUED, SENDING, CONFIRMED, REFUSED, GONE = "seen", "queued", "sending", "confirmed", "refused", "gone"
WAITING = (SEEN, QUEUED, SENDING)  # the queue the heartbeat reports
FINAL = (CONFIRMED, REFUSED, GONE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    state TEXT NOT NULL,
    recording_id INTEGER,
    device_recording_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    first_seen REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_path ON files (path, id);
CREATE INDEX IF NOT EXISTS files_state ON files (state);
"""


@dataclass(frozen=True)
class FileRow:
    id: int
    path: Path
    size: int
    mtime_ns: int
    state: str
    recording_id: int | None
    device_recording_id: str | None
    attempts: int
    next_try: float
    message: str


_COLUMNS = "id, path, size, mtime_ns, state, recording_id, device_recording_id, attempts, next_try, message"


def _row(values: tuple[object, ...]) -> FileRow:
    id_, path, size, mtime_ns, state, recording_id, device_recording_id, attempts, next_try, message = values
    return FileRow(
        id=int(str(id_)),
        path=Path(str(path)),
        size=int(str(size)),
        mtime_ns=int(str(mtime_ns)),
        state=str(state),
        recording_id=int(str(recording_id)) if recording_id is not None else None,
        device_recording_id=str(device_recording_id) if device_recording_id is not None else None,
        attempts=int(str(attempts)),
        next_try=float(str(next_try)),
        message=str(message),
    )


class StateDB:
    """Used from the agent's main thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)  # every statement commits at once
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a power cut keeps what was written
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def latest(self) -> dict[Path, FileRow]:
        """The newest row of every path."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM files WHERE id IN (SELECT max(id) FROM files GROUP BY path)"
        ).fetchall()
        return {r.path: r for r in map(_row, rows)}

    def get(self, row_id: int) -> FileRow:
        return _row(self.db.execute(f"SELECT {_COLUMNS} FROM files WHERE id = ?", (row_id,)).fetchone())

    def add(self, path: Path, size: int, mtime_ns: int, state: str = SEEN) -> FileRow:
        now = time.time()
        cursor = self.db.execute(
            "INSERT INTO files (path, size, mtime_ns, state, first_seen, updated) VALUES (?, ?, ?, ?, ?, ?)",
            (str(path), size, mtime_ns, state, now, now),
        )
        assert cursor.lastrowid is not None
        return self.get(cursor.lastrowid)

    def update(self, row_id: int, **values: object) -> None:
        names = ", ".join(f"{name} = ?" for name in values)
        self.db.execute(f"UPDATE files SET {names}, updated = ? WHERE id = ?", (*values.values(), time.time(), row_id))

    def resume_interrupted(self) -> int:
        """Rows left ``sending`` by a process that died: queued again (their upload resumes)."""
        return self.db.execute("UPDATE files SET state = ? WHERE state = ?", (QUEUED, SENDING)).rowcount

    def due(self, now: float, limit: int) -> list[FileRow]:
        """Queued files whose next try is due, oldest first."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM files WHERE state = ? AND next_try <= ? ORDER BY id LIMIT ?",
            (QUEUED, now, limit),
        ).fetchall()
        return [_row(r) for r in rows]

    def waiting(self) -> int:
        marks = ", ".join("?" * len(WAITING))
        count = self.db.execute(
            f"SELECT count(*) FROM files WHERE state IN ({marks}) AND id IN (SELECT max(id) FROM files GROUP BY path)",
            WAITING,
        ).fetchone()
        return int(count[0])

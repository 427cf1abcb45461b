"""Who has a recording open in the editor right now: each open editor sends a heartbeat, and anyone
heard from within ``TTL_SECONDS`` counts as there. Kept in this server process's memory (``kiroku
serve`` is one process): presence is a courtesy shown to clerks, not a record, so nothing is stored
and nothing is audited. A restart forgets it, and the next heartbeats bring it back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock

TTL_SECONDS = 45.0  # three missed 15-second heartbeats and the editor is taken as closed
MAX_TABS = 10_000  # a bound on memory whatever the clients send


@dataclass(frozen=True)
class Present:
    """Someone else with the recording open: another person, or the caller in another tab."""

    user_id: int
    same_user: bool


@dataclass
class Presence:
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, dict[tuple[int, str], float]] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def beat(self, recording_id: int, user_id: int, tab: str) -> list[Present]:
        """Record that ``user_id``'s tab ``tab`` has the recording open; return the others there."""
        now = self.clock()
        with self._lock:
            self._forget_stale(now)
            tabs = self._seen.setdefault(recording_id, {})
            if (user_id, tab) in tabs or sum(len(t) for t in self._seen.values()) < MAX_TABS:
                tabs[(user_id, tab)] = now
            others = {(other, other == user_id) for (other, other_tab) in tabs if (other, other_tab) != (user_id, tab)}
        return sorted((Present(u, same) for u, same in others), key=lambda p: (p.same_user, p.user_id))

    def leave(self, recording_id: int, user_id: int, tab: str) -> None:
        with self._lock:
            tabs = self._seen.get(recording_id, {})
            tabs.pop((user_id, tab), None)
            if not tabs:
                self._seen.pop(recording_id, None)

    def clear(self) -> None:
        """Forget everyone (a test's fresh start; a restart does the same)."""
        with self._lock:
            self._seen.clear()

    def _forget_stale(self, now: float) -> None:
        for recording_id in list(self._seen):
            tabs = self._seen[recording_id]
            for key in [k for k, seen in tabs.items() if now - seen > TTL_SECONDS]:
                del tabs[key]
            if not tabs:
                del self._seen[recording_id]


PRESENCE = Presence()

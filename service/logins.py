"""Wrong passwords slow the one who types them, not the account's owner.

Failures are counted per name *and* client address: a stranger guessing at a name from elsewhere
never locks its owner out. After ``login_max_failures`` failures for a name from one client, each
further try must wait twice as long as the one before (from ``login_delay_seconds`` up to the
window); after ``login_client_max_failures`` failures from one client over all names (one password
sprayed over many names), that client is slowed the same way for every name. Failures older than
the window are forgotten, and purged by the upkeep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from service.models import LoginFailure, LoginSession, utcnow
from service.settings import ServiceSettings


@dataclass(frozen=True)
class Throttle:
    free: int  # failures allowed before tries are slowed
    base_seconds: float
    window_seconds: float

    @classmethod
    def per_name(cls, settings: ServiceSettings) -> Throttle:
        return cls(settings.login_max_failures, settings.login_delay_seconds, settings.login_window_minutes * 60)

    @classmethod
    def per_client(cls, settings: ServiceSettings) -> Throttle:
        return cls(settings.login_client_max_failures, settings.login_delay_seconds, settings.login_window_minutes * 60)

    def delay(self, failures: int) -> float:
        """Seconds the next try waits after the last failure, with ``failures`` in the window."""
        if failures < self.free:
            return 0.0
        return min(self.base_seconds * 2.0 ** min(failures - self.free, 40), self.window_seconds)


def wait_seconds(db: Session, settings: ServiceSettings, name: str, client: str, now: datetime | None = None) -> int:
    """Whole seconds this client must still wait before trying ``name`` again (0: it may try now)."""
    now = now or utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes)
    recent = select(func.count(), func.max(LoginFailure.at)).where(
        col(LoginFailure.ip) == client, col(LoginFailure.at) >= since
    )
    by_name = db.exec(recent.where(col(LoginFailure.username) == name)).one()
    by_client = db.exec(recent).one()
    wait = 0.0
    for (count, last), throttle in ((by_name, Throttle.per_name(settings)), (by_client, Throttle.per_client(settings))):
        delay = throttle.delay(count)
        if delay and last is not None:  # (a failure recorded since ``now`` by a parallel try is no reason)
            wait = max(wait, (last + timedelta(seconds=delay) - now).total_seconds())
    return math.ceil(wait) if wait > 0 else 0


def record_failure(db: Session, name: str, client: str) -> None:
    db.add(LoginFailure(username=name[:100], ip=client[:64]))
    db.commit()


def purge_login_records(engine: Engine, window_minutes: float, now: datetime | None = None) -> int:
    """Delete failures older than the window (kept a day at least; the audit log keeps them longer)
    and sessions past their expiry. Returns the rows deleted."""
    now = now or utcnow()
    keep = max(timedelta(minutes=window_minutes), timedelta(days=1))
    with engine.begin() as conn:
        failures = conn.execute(delete(LoginFailure).where(col(LoginFailure.at) < now - keep)).rowcount
        sessions = conn.execute(delete(LoginSession).where(col(LoginSession.expires_at) < now)).rowcount
    return int(failures or 0) + int(sessions or 0)

"""Service settings, from the environment or a `.env` file (prefix ``KIROKU_``): the engine's
(``transcriber.settings.EngineSettings``) and the service's own.

Embedded defaults need no server: SQLite and a SQLite-backed queue broker in ``KIROKU_HOME``.
Production sets ``KIROKU_DATABASE_URL`` (PostgreSQL) and ``KIROKU_BROKER_URL`` (Redis).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from transcriber.settings import EngineSettings


class ServiceSettings(EngineSettings):
    """The engine's settings (model, device, diarization, re-decode share, home) and the service's."""

    database_url: str = ""  # empty: sqlite in KIROKU_HOME
    broker_url: str = ""  # empty: kombu's SQLAlchemy transport on a SQLite file in KIROKU_HOME
    storage_dir: Path | None = None  # empty: KIROKU_HOME/storage
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how users reach the service; used in printed URLs
    secure_cookies: bool = False  # set true behind HTTPS
    # Upload sizes are 64-bit columns (migration 0004): any limit a disk can hold is allowed.
    max_upload_bytes: int = Field(default=4 * 1024**3, ge=1, le=2**63 - 1)
    retention_days: int = Field(default=90, ge=1)
    # A resumable (tus) upload that has received nothing for this long is deleted with its bytes.
    abandoned_upload_days: float = Field(default=7.0, gt=0)
    usage_target_hours: float = 1870.0
    # A running job whose worker has not beaten for this long is considered dead and re-queued.
    heartbeat_seconds: float = 5.0
    stale_after_seconds: float = 30.0
    # A meeting-room agent that has sent heartbeats and then none for this long: admins are alerted.
    device_silent_hours: float = Field(default=24.0, gt=0)
    max_attempts: int = 3
    retry_base_seconds: float = 10.0
    session_hours: float = 12.0
    # API tokens are refused after this many days (the admin console and `kiroku token add --days`).
    api_token_days: float = Field(default=365.0, gt=0, le=3660)
    login_max_failures: int = 5  # wrong passwords for one name from one client before it is slowed
    login_window_minutes: float = 15.0  # failures older than this are forgotten
    # Then each further try waits twice as long as the one before, from this delay up to the window.
    login_delay_seconds: float = Field(default=30.0, gt=0)
    # Wrong passwords from one client over all names (spraying) before that client is slowed too.
    login_client_max_failures: int = Field(default=30, ge=1)
    # Password checks at once (argon2 takes 64 MiB each); more wait this long, then get 503.
    login_hash_concurrency: int = Field(default=2, ge=1, le=64)
    login_hash_wait_seconds: float = Field(default=5.0, ge=0)
    # Any request body but uploads, minutes and CSV imports (those have their own limits).
    max_json_bytes: int = Field(default=2 * 1024**2, ge=1024)
    # Who may read /metrics and /readyz: "local" (this host, and admins), "anyone", or "admins".
    monitoring: Literal["local", "anyone", "admins"] = "local"
    # `kiroku serve` loads GiNZA (personal-data detection, 10–18 s) in the background at start, so the
    # first 公開用 copy does not wait for it; false: it loads on the first detection instead.
    warm_up_personal_data: bool = True
    smtp_host: str = ""  # empty: usage alerts are shown on the dashboard only
    smtp_port: int = 25
    smtp_from: str = "kiroku@localhost"
    # The first administrator's password, used once at the first start; empty: one is generated.
    admin_password: SecretStr = SecretStr("")

    def resolved_storage(self) -> Path:
        return (self.storage_dir or self.data_dir() / "storage").expanduser()

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir() / 'kiroku.db'}"

    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir() / 'broker.sqlite'}"


@lru_cache(maxsize=1)
def get_settings() -> ServiceSettings:
    """The process's settings, read once: for the entry points and FastAPI's dependencies (tests clear
    the cache after changing the environment)."""
    return ServiceSettings()

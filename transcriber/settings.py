"""The engine's settings: one object, read from the environment and ``./.env`` (prefix ``KIROKU_``).

Read once where a program starts (each ``kiroku`` command, the worker) and passed down as an
argument; ``service.settings.ServiceSettings`` extends it with the service's settings. The
environment wins over the file. This module and ``service.settings`` are the only ones that touch
``os.environ`` (tests/test_layering.py keeps it so).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Work for second opinions on places that sound like a dictionary term, as a share of the first
# pass's (places in proportion to its windows: transcriber.biasing); 0 turns them off. 0.08 keeps
# a 5,000-term dictionary within 1.1x of no dictionary. The one definition of the default.
DEFAULT_REDECODE_SHARE = 0.08


class EngineSettings(BaseSettings):
    """What the recogniser needs from its surroundings: where its data is, which model, which device."""

    model_config = SettingsConfigDict(env_prefix="KIROKU_", env_file=".env", extra="ignore", frozen=True)

    home: Path | None = None  # KIROKU_HOME, the data directory; None: the platform's per-user data dir
    asr_model: str | None = None  # a model directory or name; None: the bundled Whisper base
    device: str = "auto"  # auto | cpu | cuda (transcriber.device)
    compute_type: str = "auto"  # auto | int8 | int8_float16 | float16 | float32
    diarization: str = "auto"  # auto | embedded | pyannote | off (transcriber.diarization.loader)
    diarization_pipeline: Path | None = None  # a local pyannote pipeline directory (GPU production)
    redecode_share: float = Field(default=DEFAULT_REDECODE_SHARE, ge=0.0, le=1.0)

    @field_validator("home", "asr_model", "diarization_pipeline", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `.env.example` leaves these empty to mean "not set", as the environment always could.
        return None if value == "" else value

    def data_dir(self) -> Path:
        return self.home.expanduser() if self.home else user_data_path("kiroku", appauthor=False)

    def models_dir(self) -> Path:
        return self.data_dir() / "models"


def or_from_environment(settings: EngineSettings | None) -> EngineSettings:
    """``settings``, or the environment's for a caller that was given none (a library user, a benchmark,
    ``Pipeline()``): the same sources an entry point reads, so the two agree."""
    return settings if settings is not None else EngineSettings()


def keep_pyannote_offline() -> None:
    """Switch off pyannote's usage reports and huggingface_hub's downloads: a self-hosted product must
    neither report anywhere nor reach for a model hub.

    These are other libraries' switches and the environment is their only way in. Called just before
    pyannote is loaded (not when a module is imported, so importing never changes the environment):
    huggingface_hub reads HF_HUB_OFFLINE when first imported, pyannote reads PYANNOTE_METRICS_ENABLED
    each time it would report. An operator's own HF_HUB_OFFLINE is kept.
    """
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

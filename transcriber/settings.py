"""Where kiroku keeps its data, read from the environment once per call (no global state)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path


def kiroku_home() -> Path:
    """The data directory: ``KIROKU_HOME`` or the platform's per-user data dir."""
    configured = os.environ.get("KIROKU_HOME")
    return Path(configured).expanduser() if configured else user_data_path("kiroku", appauthor=False)


def models_dir() -> Path:
    return kiroku_home() / "models"

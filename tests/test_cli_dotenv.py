"""Settings in ./.env reach every part, including those read before the service's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiroku.cli import load_dotenv_settings


def test_kiroku_settings_in_dotenv_are_used_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KIROKU_HOME=/srv/kiroku\nKIROKU_PORT=9000\nOTHER=ignored\n", encoding="utf-8")
    monkeypatch.delenv("KIROKU_HOME", raising=False)
    monkeypatch.setenv("KIROKU_PORT", "8123")
    monkeypatch.delenv("OTHER", raising=False)
    load_dotenv_settings(env_file)
    assert os.environ["KIROKU_HOME"] == "/srv/kiroku"
    assert os.environ["KIROKU_PORT"] == "8123"
    assert "OTHER" not in os.environ


def test_the_models_command_finds_kiroku_home_from_dotenv(tmp_path: Path) -> None:
    home = tmp_path / "home-from-dotenv"
    (tmp_path / ".env").write_text(f"KIROKU_HOME={home}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "KIROKU_HOME"}
    shown = subprocess.run(
        [sys.executable, "-m", "kiroku", "models"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert str(home) in shown.stdout + shown.stderr

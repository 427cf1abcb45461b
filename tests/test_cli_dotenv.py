"""Settings in ./.env reach every part through the settings objects; the environment is never changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kiroku.cli import app
from service.settings import ServiceSettings
from transcriber.settings import EngineSettings


@pytest.fixture
def in_folder_with_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding a .env, and none of its variables in the environment."""
    (tmp_path / ".env").write_text(
        "KIROKU_HOME=/srv/kiroku\nKIROKU_PORT=9000\nKIROKU_ASR_MODEL=\nKIROKU_ADMIN_PASSWORD=from-dotenv\n"
        "KIROKU_DIARIZATION_PIPELINE=/srv/kiroku/models/community-1\nOTHER=ignored\n",
        encoding="utf-8",
    )
    for name in ("HOME", "PORT", "ASR_MODEL", "ADMIN_PASSWORD", "DIARIZATION_PIPELINE"):
        monkeypatch.delenv(f"KIROKU_{name}", raising=False)
    monkeypatch.delenv("OTHER", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dotenv_settings_reach_the_settings_objects_and_the_environment_wins(
    in_folder_with_dotenv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIROKU_PORT", "8123")
    before = dict(os.environ)
    engine, service = EngineSettings(), ServiceSettings()
    assert engine.models_dir() == Path("/srv/kiroku/models")
    assert engine.diarization_pipeline == Path("/srv/kiroku/models/community-1")
    assert engine.asr_model is None  # left empty in the file: not set
    assert service.resolved_storage() == Path("/srv/kiroku/storage")
    assert service.admin_password.get_secret_value() == "from-dotenv"
    assert service.port == 8123  # the environment wins over the file
    assert dict(os.environ) == before  # read into the objects, not copied into the environment


def test_a_kiroku_command_reads_dotenv_without_changing_the_environment(in_folder_with_dotenv: Path) -> None:
    before = dict(os.environ)
    shown = CliRunner().invoke(app, ["models"])
    assert "models: /srv/kiroku/models" in shown.output
    assert dict(os.environ) == before


def test_the_models_command_finds_kiroku_home_from_dotenv(tmp_path: Path) -> None:
    home = tmp_path / "home-from-dotenv"
    (tmp_path / ".env").write_text(f"KIROKU_HOME={home}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "KIROKU_HOME"}
    shown = subprocess.run(
        [sys.executable, "-m", "kiroku", "models"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert str(home) in shown.stdout + shown.stderr


def test_an_invalid_setting_is_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KIROKU_REDECODE_SHARE=2\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "KIROKU_REDECODE_SHARE"}
    shown = subprocess.run(
        [sys.executable, "-m", "kiroku", "models"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 2
    assert "KIROKU_REDECODE_SHARE" in shown.stderr and "Traceback" not in shown.stderr

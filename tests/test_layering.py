"""Layering rules that imports alone do not enforce: settings are read in one place, and the worker
and the command line do not load the web framework."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("transcriber", "dictionaries", "service", "worker", "api", "web")
# The only modules that read (or, for pyannote's switches, write) the environment.
SETTINGS_MODULES = {Path("transcriber/settings.py"), Path("service/settings.py")}
ENVIRONMENT = re.compile(r"os\.environ|os\.getenv|\bgetenv\(")


def test_only_the_settings_modules_touch_the_environment() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for layer in LAYERS
        for path in sorted((REPO / layer).rglob("*.py"))
        if path.relative_to(REPO) not in SETTINGS_MODULES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ENVIRONMENT.search(line)
    ]
    assert not offenders, "read the settings object instead of the environment:\n" + "\n".join(offenders)


# Imports what `kiroku worker` and `kiroku transcribe` import (the latter's parser run for --help, and
# the modules its command imports when it runs); reports the web framework modules that came along,
# and whether importing changed the environment.
_PROBE = """
import os
import sys

before = dict(os.environ)
import worker.tasks
import kiroku.cli
from typer.main import get_command

try:
    get_command(kiroku.cli.app).main(["transcribe", "--help"], standalone_mode=False)
except SystemExit:
    pass
import transcriber.audio, transcriber.formats, transcriber.pipeline, transcriber.diarization.loader

print("WEB:", *sorted(m for m in sys.modules if m.split(".")[0] in ("fastapi", "starlette")))
print("NLP:", *sorted(m for m in sys.modules if m.split(".")[0] in ("spacy", "ginza", "ja_ginza")))
print("ENV CHANGED:", *sorted(k for k in before.keys() | os.environ.keys() if before.get(k) != os.environ.get(k)))
"""


def _probe() -> dict[str, list[str]]:
    shown = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "Usage:" in shown.stdout and "transcribe" in shown.stdout  # the parser ran
    found = {}
    for line in shown.stdout.splitlines():
        key, colon, rest = line.partition(":")
        if colon and key in ("WEB", "NLP", "ENV CHANGED"):
            found[key] = rest.split()
    return found


def test_the_worker_and_the_command_line_do_not_import_the_web_framework() -> None:
    found = _probe()
    # If this fails, `python -X importtime -c "import worker.tasks"` shows the chain that pulled it in.
    assert found["WEB"] == [], f"fastapi/starlette imported by the worker or the CLI: {found['WEB']}"
    assert found["ENV CHANGED"] == [], f"importing changed the environment: {found['ENV CHANGED']}"
    # GiNZA (personal-data detection, 300 MB) is the API's: `kiroku serve` warms it up, these never load it.
    assert found["NLP"] == [], f"GiNZA/spaCy imported by the worker or the CLI: {found['NLP']}"

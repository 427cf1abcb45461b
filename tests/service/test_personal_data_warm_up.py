"""`kiroku serve` loads GiNZA in the background at start (issue 24): the first 公開用 copy does not wait
10–18 s for it, startup does not wait for it either, and a missing model does not take the API down."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.personal_data import nlp

BOUND = 60.0  # seconds: generous, the fake loader answers at once


def test_the_app_loads_ginza_in_the_background_without_waiting_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    called = threading.Event()
    release = threading.Event()
    loaded: list[Any] = []

    def loader() -> Any:
        called.set()
        release.wait(BOUND)  # still loading while the app answers
        loaded.append("pipeline")
        return "pipeline"

    monkeypatch.setattr(nlp, "pipeline", loader)
    with TestClient(create_app(warm_up=True)) as client:
        # The app is up and answers while the loader has not finished: startup did not wait.
        assert client.get("/healthz").status_code == 200
        assert called.wait(BOUND), "GiNZA was not loaded in the background after startup"
        assert not loaded
        release.set()


def test_without_warm_up_nothing_is_loaded_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    called = threading.Event()
    monkeypatch.setattr(nlp, "pipeline", lambda: called.set())
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200
    assert not called.is_set()


def test_a_missing_ginza_is_logged_and_the_app_keeps_answering(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failed = threading.Event()

    def loader() -> Any:
        failed.set()
        raise nlp.NlpUnavailable("GiNZA model 'ja_ginza' cannot be loaded (No module named 'spacy')")

    monkeypatch.setattr(nlp, "pipeline", loader)
    caplog.set_level(logging.WARNING, logger="api.app")
    with TestClient(create_app(warm_up=True)) as client:
        assert failed.wait(BOUND)
        threads = [t for t in threading.enumerate() if t.name == "kiroku-ginza-warm-up"]
        for thread in threads:
            thread.join(BOUND)
        assert client.get("/healthz").status_code == 200
    assert any("personal-data detection will not be available" in r.getMessage() for r in caplog.records)

"""Peaks for the editor's overview strip: computed once from the stored audio, served to those who
may see the recording (204 with a state where there are none), and removed with the audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.accounts import add_user
from service.models import Role
from service.peaks import peaks_of, peaks_path, read_peaks, store_peaks
from service.storage import remove_audio
from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD
from tests.web.conftest import DEPARTMENT, OTHER_DEPARTMENT
from tests.web.transcripts import meeting, store_finished


def test_peaks_are_the_loudest_sample_of_each_stretch() -> None:
    samples = np.zeros(1000, dtype=np.float32)
    samples[250] = -0.8  # a loud moment a quarter of the way in
    samples[900] = 0.3
    peaks = peaks_of(samples, buckets=10)
    assert peaks == [0.0, 0.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3]
    assert peaks_of(np.zeros(0, dtype=np.float32)) == []
    assert len(peaks_of(np.ones(5, dtype=np.float32), buckets=10)) == 5


def test_peaks_of_a_recording_through_the_api(engine: Engine, tmp_path: Path) -> None:
    from kiroku.webapp import build_app
    from service.settings import get_settings

    with Session(engine) as db:
        add_user(db, "peaks_clerk", Role.clerk, DEPARTMENT, PASSWORD)
        add_user(db, "peaks_other", Role.clerk, OTHER_DEPARTMENT, PASSWORD)
    app = build_app()
    storage = get_settings().resolved_storage()
    recording_id = store_finished(engine, storage, "peaks_clerk", "波形", meeting(2), SINGLE)
    clients = {}
    for user in ("peaks_clerk", "peaks_other"):
        client = TestClient(app)
        assert client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD}).status_code == 200
        clients[user] = client
    url = f"/api/v1/recordings/{recording_id}/peaks"
    missing = clients["peaks_clerk"].get(url)
    assert missing.status_code == 204 and missing.headers["X-Kiroku-State"] == "no_peaks"

    relative = f"audio/web-test-波形{SINGLE.suffix}"
    assert store_peaks(storage, relative)
    got = clients["peaks_clerk"].get(url)
    assert got.status_code == 200
    peaks = got.json()["peaks"]
    assert len(peaks) > 100 and max(peaks) > 0.1 and all(0 <= p <= 1 for p in peaks)  # the speech is there
    assert clients["peaks_other"].get(url).status_code == 404

    remove_audio(storage, relative)  # retention or deletion: the peaks go with the audio
    assert not peaks_path(storage, relative).exists() and read_peaks(storage, relative) is None
    assert not store_peaks(storage, relative)  # nothing to decode: False, never an exception
    shutil.rmtree(storage / "audio", ignore_errors=True)

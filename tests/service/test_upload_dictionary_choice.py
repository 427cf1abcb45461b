"""The dictionaries a clerk chooses at upload are the ones the worker corrects with, with the real
model (issue 28: this path was tested only with terms handed to a stand-in).

The clip says 「本日の議題は、来年度の予算についてです」; a dictionary whose term 本日の案件 lists
本日の議題 as a known wrong form turns the one into the other, and only where it was chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from service.models import TranscriptRecord
from tests.conftest import SINGLE
from tests.service.conftest import World, run_queued_job

D = "/api/v1/dictionaries"


def _dictionary(clerk: Any, name: str, terms: list[dict[str, Any]]) -> int:
    created = clerk.post(D, json={"name": name})
    assert created.status_code == 201, created.text
    for term in terms:
        assert clerk.post(f"{D}/{created.json()['id']}/terms", json=term).status_code == 201
    dictionary_id: int = created.json()["id"]
    return dictionary_id


def _transcribed_text(world: World, clerk: Any, chosen: list[int], transcribe: object, storage: Path) -> str:
    with SINGLE.open("rb") as handle:
        created = clerk.post(
            "/api/v1/recordings", files={"file": handle}, data={"kind": "meeting", "dictionary": chosen}
        ).json()
    assert run_queued_job(world.engine, created["job_id"], transcribe, storage) == "succeeded"
    with Session(world.engine) as db:
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == created["id"])).one()
    return "".join(segment["text"] for segment in stored.body["segments"])


@pytest.mark.slow
def test_the_worker_corrects_with_the_dictionaries_chosen_at_upload(
    world: World, service_env: dict[str, str], transcribe_fn: object
) -> None:
    clerk = world.client("clerk_kita")
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    agenda = _dictionary(
        clerk, "議事の用語", [{"term": "本日の案件", "reading": "ほんじつのあんけん", "aliases": ["本日の議題"]}]
    )
    places = _dictionary(clerk, "地名", [{"term": "杭全", "reading": "くまた"}])
    # Both are the department's; only the chosen one is used.
    assert "本日の議題" in _transcribed_text(world, clerk, [places], transcribe_fn, storage)
    corrected = _transcribed_text(world, clerk, [agenda], transcribe_fn, storage)
    assert "本日の案件" in corrected and "本日の議題" not in corrected

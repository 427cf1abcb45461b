"""版の履歴 while the editor autosaves: a clerk's saves within two minutes of their previous one
supersede it, so a morning of typing does not store hundreds of whole copies of the minutes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from service.models import AuditEvent, MinutesRevision, utcnow
from tests.service.conftest import World
from tests.web.transcripts import meeting, store_finished

R = "/api/v1/recordings"


def _save(client: object, recording_id: int, text: str) -> int:
    minutes_url = f"{R}/{recording_id}/minutes"
    current = client.get(minutes_url)  # type: ignore[attr-defined]
    body = current.json()
    body["transcript"]["segments"][0]["text"] = text
    saved = client.put(minutes_url, json=body, headers={"If-Match": current.headers["ETag"]})  # type: ignore[attr-defined]
    assert saved.status_code == 200, saved.text
    return int(saved.json()["revision"])


def _numbers(client: object, recording_id: int) -> list[int]:
    listed = client.get(f"{R}/{recording_id}/minutes/revisions").json()  # type: ignore[attr-defined]
    return [r["revision"] for r in listed]


def test_autosaves_keep_one_revision_per_pause_and_every_other_persons(
    world: World, service_env: dict[str, str]
) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    recording_id = store_finished(world.engine, storage, "clerk_kita", "予算説明会", meeting(6))
    clerk, manager = world.client("clerk_kita"), world.client("manager_kita")

    for text in ("一回目", "二回目", "三回目"):
        _save(clerk, recording_id, text)
    assert _numbers(clerk, recording_id) == [1, 3]  # the first revision is always kept

    _save(manager, recording_id, "課長の修正")  # someone else's revision is never superseded
    _save(clerk, recording_id, "四回目")
    assert _numbers(clerk, recording_id) == [1, 3, 4, 5]

    with Session(world.engine) as db:  # the clerk paused for three minutes
        latest = db.exec(select(MinutesRevision).where(MinutesRevision.number == 5)).one()
        latest.created_at = utcnow() - timedelta(minutes=3)
        db.add(latest)
        db.commit()
    assert _save(clerk, recording_id, "休憩のあと") == 6
    assert _numbers(clerk, recording_id) == [1, 3, 4, 5, 6]
    assert clerk.get(f"{R}/{recording_id}/minutes").json()["transcript"]["segments"][0]["text"] == "休憩のあと"

    with Session(world.engine) as db:  # the audit trail still holds every save
        edits = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.edit")).all()
        assert len(edits) == 6

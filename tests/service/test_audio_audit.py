"""Listening is audited once per person, recording and ten minutes, not once per range request.

A browser's player fetches the audio in many ``Range`` requests while the clerk plays and seeks;
an audit trail with a row per request would bury the events an auditor looks for.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from service.models import AuditEvent, utcnow
from tests.conftest import SINGLE
from tests.service.conftest import World

R = "/api/v1/recordings"


def _audio_events(world: World, recording_id: int) -> list[AuditEvent]:
    with Session(world.engine) as db:
        return list(
            db.exec(
                select(AuditEvent).where(
                    AuditEvent.recording_id == recording_id,
                    AuditEvent.action == "recording.view",
                    AuditEvent.detail == "audio",
                )
            ).all()
        )


def test_a_listening_session_is_one_audit_event_per_person(world: World) -> None:
    clerk, manager = world.client("clerk_kita"), world.client("manager_kita")
    with SINGLE.open("rb") as handle:
        created = clerk.post(R, files={"file": ("a.flac", handle, "audio/flac")}, data={"kind": "meeting"}).json()
    audio = f"{R}/{created['id']}/audio"

    for value in ("bytes=0-", "bytes=1000-", "bytes=2000-2999", None):
        response = clerk.get(audio, headers={"Range": value} if value else {})
        assert response.status_code in (200, 206)
    assert len(_audio_events(world, created["id"])) == 1

    assert manager.get(audio, headers={"Range": "bytes=0-"}).status_code == 206  # another person: own event
    assert len(_audio_events(world, created["id"])) == 2

    with Session(world.engine) as db:  # ten minutes later the clerk listens again: a new event
        for event in db.exec(select(AuditEvent).where(col(AuditEvent.recording_id) == created["id"])).all():
            event.at = utcnow() - timedelta(minutes=11)
            db.add(event)
        db.commit()
    assert clerk.get(audio, headers={"Range": "bytes=0-"}).status_code == 206
    assert len(_audio_events(world, created["id"])) == 3

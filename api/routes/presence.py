"""What the editor shows beside the text: presence (``POST /recordings/{id}/presence`` is the open
editor's heartbeat and answers who else has the recording open; ``DELETE`` says the editor was
closed) and the audio's peaks for the overview strip (``GET …/peaks``)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlmodel import col, select

from api.auth import CurrentCaller, DbSession
from api.schemas.presence import Heartbeat, PeaksOut, PresenceOut, PresentOut
from service.access import visible_recording
from service.models import User
from service.peaks import read_peaks
from service.presence import PRESENCE
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/recordings", tags=["presence"])
HEARTBEAT_SECONDS = 15


@router.post("/{recording_id}/presence", response_model=PresenceOut, summary="編集画面の在室通知 (ほかに開いている人)")
def heartbeat(recording_id: int, beat: Heartbeat, db: DbSession, caller: CurrentCaller) -> PresenceOut:
    visible_recording(db, caller, recording_id)
    others = PRESENCE.beat(recording_id, caller.user_id, beat.tab)
    ids = {p.user_id for p in others}
    users = db.exec(select(User).where(col(User.id).in_(ids))).all() if ids else []
    names = {u.id: (u.display_name or u.name) for u in users}
    return PresenceOut(
        others=[PresentOut(name=names.get(p.user_id, ""), same_user=p.same_user) for p in others],
        heartbeat_seconds=HEARTBEAT_SECONDS,
    )


@router.delete(
    "/{recording_id}/presence/{tab}",
    status_code=204,
    summary="編集画面を閉じた",
    responses={204: {"description": "閉じたことを記録しました"}},
)
def leave(recording_id: int, tab: str, db: DbSession, caller: CurrentCaller) -> Response:
    visible_recording(db, caller, recording_id)
    PRESENCE.leave(recording_id, caller.user_id, tab[:64])
    return Response(status_code=204)


@router.get(
    "/{recording_id}/peaks",
    response_model=PeaksOut,
    summary="音声の波形 (見取り図用の最大振幅)",
    responses={204: {"description": "まだない (X-Kiroku-State: no_peaks): 音声がないか、波形を残す前の記録"}},
)
def peaks(recording_id: int, db: DbSession, caller: CurrentCaller) -> PeaksOut | Response:
    recording = visible_recording(db, caller, recording_id)
    found = read_peaks(get_settings().resolved_storage(), recording.audio_path)
    if found is None:
        return Response(status_code=204, headers={"X-Kiroku-State": "no_peaks"})
    return PeaksOut(peaks=found)

"""Known voices of a department (issue 26): list, enrol from a recording's speaker, delete, and name
the speakers of an existing transcript. Rules and access: ``service.voices`` (docs/voices.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CurrentCaller, DbSession, client_ip
from api.schemas.voices import EnrolOut, NamedTranscriptOut, VoiceProfileList, VoiceProfileOut
from service import voices as domain
from service.access import visible_recording
from service.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["voices"])


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$", description="話者 ID (例: S2)")
    name: str = Field(min_length=1, max_length=domain.MAX_NAME, description="氏名")
    title: str = Field(default="", max_length=domain.MAX_NAME, description="役職")
    consent: str = Field(min_length=1, max_length=2000, description="本人の同意の記録 (いつ、どのように)")


@router.get("/voices", response_model=VoiceProfileList, summary="登録済みの声の一覧 (自部署)")
def list_voices(db: DbSession, caller: CurrentCaller) -> VoiceProfileList:
    return VoiceProfileList(
        items=[
            VoiceProfileOut.of(p, n, domain.may_manage(caller, p)) for p, n in domain.department_profiles(db, caller)
        ]
    )


@router.post(
    "/recordings/{recording_id}/voices", status_code=201, response_model=EnrolOut, summary="この声を登録 (同意必須)"
)
def enrol_voice(recording_id: int, body: EnrolIn, request: Request, db: DbSession, caller: CurrentCaller) -> EnrolOut:
    """The speaker's clean speech (20 s or more) becomes voice samples of the department's profile."""
    recording = visible_recording(db, caller, recording_id)
    profile, added = domain.enrol(
        db,
        caller,
        recording,
        get_settings().resolved_storage(),
        speaker=body.speaker,
        name=body.name,
        title=body.title,
        consent=body.consent,
        ip=client_ip(request),
    )
    count = dict((p.id, n) for p, n in domain.department_profiles(db, caller)).get(profile.id, added)
    return EnrolOut(profile=VoiceProfileOut.of(profile, count, domain.may_manage(caller, profile)), added=added)


@router.delete("/voices/{profile_id}", status_code=204, summary="登録した声を削除 (声の特徴量もすべて)")
def delete_voice(profile_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    domain.delete_profile(db, caller, profile_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post(
    "/recordings/{recording_id}/voice-names",
    response_model=NamedTranscriptOut,
    summary="登録済みの声で話者名を推定 (再文字起こしなし)",
)
def name_voices(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> NamedTranscriptOut:
    recording = visible_recording(db, caller, recording_id)
    body = domain.name_recording(db, caller, recording, get_settings().resolved_storage(), ip=client_ip(request))
    speakers = body.get("speakers", [])
    return NamedTranscriptOut(transcript=body, estimated=sum(1 for s in speakers if s.get("voice_estimated")))

"""Recordings: upload (multipart), list, status, cancel, delete, transcript, minutes and exports.

The work is ``service.recordings`` and ``service.revisions``; a route parses, checks that the caller
may see the recording, calls one of them and answers.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.auth import CurrentCaller, DbSession, client_ip
from api.bodies import minutes_json
from api.params import Moment
from api.schemas.recordings import (
    MinutesOut,
    RecordingOut,
    RecordingPage,
    RevisionInfo,
    RevisionOut,
    TranscriptJSON,
)
from service import recordings, revisions
from service.access import MAX_ID, visible_recording
from service.errors import ServiceError
from service.exports import MEDIA_TYPES, ExportOptions
from service.jobs import latest_job
from service.minutes import MINUTES_BODY_DOC, etag
from service.models import Job, Kind, Recording
from service.storage import MAX_FORM_FIELDS, MAX_FORM_PART
from transcriber.transcript import Transcript

# A body over the upload limit is refused while it arrives, not after it was spooled (api.guard).
router = APIRouter(prefix="/api/v1/recordings", tags=["recordings"])


# Routes answering a RecordingOut leave unset fields out: a recording without a job has only some job keys.
def _out(recording: Recording, job: Job | None) -> RecordingOut:
    return RecordingOut.model_validate(recordings.recording_view(recording, job))


@router.post(
    "",
    status_code=201,
    summary="録音をアップロードして文字起こしを始める",
    form_limits={"max_files": 1, "max_fields": MAX_FORM_FIELDS, "max_part_size": MAX_FORM_PART},
    response_model_exclude_unset=True,
)
def upload(
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    file: Annotated[UploadFile, File(description="録音ファイル")],
    kind: Annotated[Kind, Form(description="meeting | interview | negotiation | phone")],
    title: Annotated[str, Form(max_length=300)] = "",
    held_at: Annotated[datetime | None, Form()] = None,
    place: Annotated[str, Form(max_length=300)] = "",
    attendees: Annotated[str, Form(max_length=2000)] = "",
    speakers: Annotated[int | None, Form(ge=1, le=20)] = None,
    dictionary: Annotated[list[int] | None, Form()] = None,
    fields: Annotated[
        str, Form(max_length=32_000, description='種類ごとの記録の項目 (JSON: {"staff": "山田", "counterpart": "…"})')
    ] = "",
) -> RecordingOut:
    recording, job = recordings.receive_upload(
        db,
        caller,
        file.file,
        filename=file.filename,
        kind=kind,
        title=title,
        held_at=held_at,
        place=place,
        attendees=attendees,
        speakers=speakers,
        dictionary_ids=list(dictionary or []),
        ip=client_ip(request),
        fields=upload_fields_json(fields),
    )
    return _out(recording, job)


def upload_fields_json(raw: str) -> dict[str, str]:
    """The ``fields`` form value: a JSON object of strings (422 otherwise)."""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise ServiceError(422, "invalid", "fields は JSON のオブジェクトにしてください。") from error
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise ServiceError(422, "invalid", "fields は文字列の値を持つ JSON のオブジェクトにしてください。")
    return parsed


@router.get("", summary="録音の一覧", response_model_exclude_unset=True)
def list_recordings(
    db: DbSession,
    caller: CurrentCaller,
    kind: Kind | None = None,
    status: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="タイトル検索")] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> RecordingPage:
    page = recordings.list_recordings(
        db, caller, kind=kind, status=status, q=q, since=since, until=until, limit=limit, offset=offset
    )
    return RecordingPage.model_validate(page)


@router.get("/{recording_id}", summary="録音と処理状況", response_model_exclude_unset=True)
def get_recording(recording_id: int, db: DbSession, caller: CurrentCaller) -> RecordingOut:
    recording = visible_recording(db, caller, recording_id)
    # Not audited: pages poll this for progress, and it shows only what the (unaudited) list shows.
    # Views of the content (transcript, minutes, audio, exports) are audited.
    return _out(recording, latest_job(db, recording_id))


@router.post("/{recording_id}/cancel", summary="処理の取り消し", response_model_exclude_unset=True)
def cancel_recording(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> RecordingOut:
    recording = visible_recording(db, caller, recording_id)
    job = recordings.cancel_recording(db, caller, recording, ip=client_ip(request))
    return _out(recording, job)


class SpeakerCount(BaseModel):
    """The speaker count for a relabel: exactly ``count``, or between ``min`` and ``max``."""

    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(default=None, ge=1, le=20)
    min: int | None = Field(default=None, ge=1, le=20)
    max: int | None = Field(default=None, ge=1, le=20)

    @model_validator(mode="after")
    def _one_way(self) -> SpeakerCount:
        if self.count is not None and (self.min is not None or self.max is not None):
            raise ValueError("count か min/max のどちらか一方を指定してください")
        if self.count is None and self.min is None and self.max is None:
            raise ValueError("count または min/max を指定してください")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min は max 以下にしてください")
        return self


@router.post(
    "/{recording_id}/speakers",
    status_code=202,
    summary="話者数を変えて話者を付け直す (再文字起こしなし)",
    response_model_exclude_unset=True,
)
def relabel_speakers(
    recording_id: int, body: SpeakerCount, request: Request, db: DbSession, caller: CurrentCaller
) -> RecordingOut:
    """The diarizer runs again with the new count and the machine transcript's words are assigned to
    the new speakers; the text is not recognised again, and no usage is recorded."""
    recording = visible_recording(db, caller, recording_id)
    job = recordings.relabel_speakers(
        db, caller, recording, count=body.count, low=body.min, high=body.max, ip=client_ip(request)
    )
    return _out(recording, job)


@router.delete(
    "/{recording_id}",
    status_code=204,
    summary="録音・文字起こし・議事録を削除",
    responses={204: {"description": "削除しました (記録の行は利用実績と監査のために空で残ります)"}},
)
def delete_recording(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    recording = visible_recording(db, caller, recording_id)
    recordings.delete_recording(db, caller, recording, ip=client_ip(request))
    return Response(status_code=204)


@router.get(
    "/{recording_id}/transcript", summary="機械の文字起こし (kiroku.transcript/1)", response_model=TranscriptJSON
)
def get_transcript(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    return recordings.read_transcript(db, caller, recording, ip=client_ip(request))


@router.get(
    "/{recording_id}/minutes",
    summary="編集中の議事録 (ETag 付き)",
    response_model=MinutesOut,
    responses={204: {"description": "文字起こしがまだ終わっていない (X-Kiroku-State: not_ready)"}},
)
def get_minutes(
    recording_id: int, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> MinutesOut | Response:
    recording = visible_recording(db, caller, recording_id)
    try:
        number, body = revisions.read_minutes(db, caller, recording, ip=client_ip(request))
    except ServiceError as error:
        if error.code != "not_ready":
            raise
        # The editor opened while the job runs: a state it waits out, not an error.
        return Response(status_code=204, headers={"X-Kiroku-State": "not_ready"})
    response.headers["ETag"] = etag(number)
    return MinutesOut.model_validate({"revision": number, **body})


@router.put("/{recording_id}/minutes", summary="議事録を保存 (If-Match 必須)", openapi_extra=MINUTES_BODY_DOC)
def put_minutes(
    recording_id: int,
    request: Request,
    response: Response,
    db: DbSession,
    caller: CurrentCaller,
    body: Annotated[dict[str, Any], Depends(minutes_json)],  # read strictly, after the caller is known
    if_match: Annotated[str | None, Header()] = None,
) -> MinutesOut:
    recording = visible_recording(db, caller, recording_id)
    number, stored = revisions.save_minutes(db, caller, recording, body, if_match, ip=client_ip(request))
    response.headers["ETag"] = etag(number)
    return MinutesOut.model_validate({"revision": number, **stored})


@router.get("/{recording_id}/minutes/revisions", summary="議事録の版の一覧")
def list_revisions(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> list[RevisionInfo]:
    visible_recording(db, caller, recording_id)
    rows = revisions.list_revisions(db, caller, recording_id, ip=client_ip(request))
    return [RevisionInfo.model_validate(row) for row in rows]


@router.get("/{recording_id}/minutes/revisions/{number}", summary="議事録の版 (0 は機械の文字起こし)")
def get_revision(
    recording_id: int,
    number: Annotated[int, PathParam(ge=0, le=MAX_ID)],
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
) -> RevisionOut:
    """One saved revision's minutes, to look at or to restore (by saving it again as a new revision)."""
    recording = visible_recording(db, caller, recording_id)
    return RevisionOut.model_validate(revisions.get_revision(db, caller, recording, number, ip=client_ip(request)))


@router.get(
    "/{recording_id}/export",
    summary="書き出し (docx, txt, srt, vtt, json)",
    response_class=Response,
    responses={
        200: {
            "description": "議事録のファイル (json は kiroku.transcript/1)",
            "model": Transcript,
            "content": {media: {} for fmt, media in MEDIA_TYPES.items() if fmt != "json"},
        }
    },
)
def export_recording(
    recording_id: int,
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    format: Annotated[str, Query(pattern="^(docx|txt|srt|vtt|json)$")] = "docx",
    tidy: Annotated[
        bool, Query(description="整文: えー・あのー等と言い直しを除く (保存された全文は変わりません)")
    ] = False,
    timestamps: Annotated[
        bool | None, Query(description="発言の時刻を入れる (省略時: docx は入れない、txt は入れる)")
    ] = None,
) -> Response:
    recording = visible_recording(db, caller, recording_id)
    options = ExportOptions(tidy=tidy, timestamps=timestamps)
    written = recordings.export_recording(db, caller, recording, format, options=options, ip=client_ip(request))
    return Response(
        written.data,
        media_type=written.media_type,
        headers={"Content-Disposition": attachment(written.filename, written.ascii_name)},
    )


def attachment(filename: str, ascii_name: str) -> str:
    """Content-Disposition with the record's name for every browser (RFC 6266/5987 ``filename*``)."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/{recording_id}/audio",
    summary="録音の音声",
    response_class=FileResponse,
    responses={200: {"description": "録音ファイル (Range 対応)", "content": {"audio/*": {}}}},
)
def get_audio(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> FileResponse:
    recording = visible_recording(db, caller, recording_id)
    path = recordings.audio_file(db, caller, recording, ip=client_ip(request))
    return FileResponse(path, filename=f"recording-{recording_id}{path.suffix}")

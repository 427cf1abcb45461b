"""公開用 (publication copy): the minutes with personal data masked, for 情報公開 (``service.publication``).

- ``POST /recordings/{id}/publication`` finds candidates in the current minutes (``service.masking``),
  keeping earlier decisions and manual additions;
- ``GET`` shows the candidates and a masked preview (ETag like the minutes);
- ``PUT`` (If-Match) confirms, rejects, adds (a range, or a text everywhere) and removes spans;
- ``GET …/publication/export?format=docx|txt`` writes the masked copy.

A copy belongs to one revision of the minutes; once the minutes change it is stale: it can be
viewed, but must be refreshed (POST) before it is edited or exported, so that new text is checked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api.auth import CurrentCaller, DbSession, client_ip
from api.routes.recordings import attachment
from api.schemas.publication import PublicationOut
from service import publication, recordings
from service.access import audit, visible_recording
from service.errors import ServiceError
from service.exports import MEDIA_TYPES
from service.minutes import PUBLICATION_TAG, current_minutes, etag, parse_etag
from service.publication import PublicationEdit

router = APIRouter(prefix="/api/v1/recordings", tags=["publication"])
STATE_HEADER = "X-Kiroku-State"  # why a GET answered 204: the thing is not there yet


@router.post(
    "/{recording_id}/publication", response_model=PublicationOut, summary="公開用を作成・更新 (個人情報の候補を検出)"
)
def create_publication(
    recording_id: int, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> PublicationOut:
    recording = visible_recording(db, caller, recording_id)
    copy, created = publication.create_or_refresh(db, caller, recording, ip=client_ip(request))
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(copy.revision, PUBLICATION_TAG)
    return PublicationOut.of(recording_id, publication.state(db, recording, copy))


@router.get(
    "/{recording_id}/publication",
    response_model=PublicationOut,
    summary="公開用 (候補とマスク後のプレビュー、ETag 付き)",
    responses={204: {"description": "まだない: X-Kiroku-State が no_publication (未作成) か not_ready (文字起こし中)"}},
)
def get_publication(
    recording_id: int, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> PublicationOut | Response:
    recording = visible_recording(db, caller, recording_id)
    copy = publication.copy_of(db, recording_id)
    if copy is None:
        # Not made yet is a normal state of the page, not an error (no red line in the console).
        state = "not_ready" if current_minutes(db, recording) is None else "no_publication"
        return Response(status_code=204, headers={STATE_HEADER: state})
    response.headers["ETag"] = etag(copy.revision, PUBLICATION_TAG)
    view = PublicationOut.of(recording_id, publication.state(db, recording, copy))
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="publication", ip=client_ip(request))
    return view


@router.put(
    "/{recording_id}/publication",
    response_model=PublicationOut,
    summary="候補の確定・却下、範囲の追加・削除 (If-Match 必須)",
)
def put_publication(
    recording_id: int,
    edit: PublicationEdit,
    request: Request,
    response: Response,
    db: DbSession,
    caller: CurrentCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> PublicationOut:
    recording = visible_recording(db, caller, recording_id)
    copy = publication.copy_of(db, recording_id)
    if copy is None:
        raise publication.no_copy()
    if if_match is None:
        raise ServiceError(428, "if_match", "If-Match ヘッダー(読み込んだ版)が必要です。")
    if parse_etag(if_match, PUBLICATION_TAG) != copy.revision:
        raise ServiceError(
            409,
            "conflict",
            "他の人が先に公開用を保存しました。最新の版を読み込んでから編集してください。",
            {"ETag": etag(copy.revision, PUBLICATION_TAG)},
        )
    stored = publication.save_edit(db, caller, recording, copy, edit, ip=client_ip(request))
    response.headers["ETag"] = etag(stored.revision, PUBLICATION_TAG)
    return PublicationOut.of(recording_id, publication.state(db, recording, stored))


@router.get(
    "/{recording_id}/publication/export",
    summary="公開用の書き出し (docx, txt)",
    response_class=Response,
    responses={200: {"description": "公開用の写し", "content": {MEDIA_TYPES[f]: {} for f in ("docx", "txt")}}},
)
def export_publication(
    recording_id: int,
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    format: Annotated[str, Query(pattern="^(docx|txt)$")] = "docx",
    tidy: Annotated[bool, Query(description="整文: えー・あのー等と言い直しを除く")] = False,
    timestamps: Annotated[bool | None, Query(description="発言の時刻を入れる")] = None,
) -> Response:
    recording = visible_recording(db, caller, recording_id)
    data = publication.export_copy(
        db, caller, recording, format, tidy=tidy, timestamps=timestamps, ip=client_ip(request)
    )
    body = current_minutes(db, recording)
    header = body[1].get("header") or {} if body else {}
    filename = recordings.export_name(recording, header, format, publication=True)
    ascii_name = f"publication-{recording_id}.{format}"
    return Response(
        data, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": attachment(filename, ascii_name)}
    )

"""Recordings: upload (multipart), list, status, cancel, delete, transcript, minutes and exports."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, col, func, select

from api.auth import CurrentCaller, DbSession, client_ip
from api.bodies import minutes_json
from api.upload_route import UploadRoute
from service.access import MAX_ID, Caller, audit, visible_recording
from service.clock import TOKYO
from service.errors import ServiceError, not_found
from service.exports import MEDIA_TYPES, export
from service.jobs import cancel, job_view, latest_job, queue_relabel, store_recording
from service.minutes import (
    MINUTES_BODY_DOC,
    Minutes,
    current_minutes,
    edit_counts,
    etag,
    initial_header,
    parse_etag,
    unsafe_character,
)
from service.models import (
    KIND_LABELS,
    AuditEvent,
    Dictionary,
    Job,
    Kind,
    MinutesRevision,
    PublicationCopy,
    Recording,
    Role,
    Source,
    TranscriptRecord,
    utcnow,
)
from service.search import index_recording
from service.settings import get_settings
from service.storage import (
    MAX_FORM_FIELDS,
    MAX_FORM_PART,
    original_name,
    probe_upload,
    remove_audio,
    stream_to_file,
    uploads_dir,
)

# UploadRoute: a body over the upload limit is refused while it arrives, not after it was spooled.
router = APIRouter(prefix="/api/v1/recordings", tags=["recordings"], route_class=UploadRoute)


def recording_view(recording: Recording, job: Any) -> dict[str, Any]:
    return {
        "id": recording.id,
        "title": recording.title,
        "kind": recording.kind,
        "source": recording.source,
        "department_id": recording.department_id,
        "held_at": recording.held_at,
        "place": recording.place,
        "attendees": recording.attendees,
        "expected_speakers": recording.expected_speakers,
        "dictionary_ids": recording.dictionary_ids,
        "original_filename": recording.original_filename,
        "duration_seconds": round(recording.duration_seconds, 3),
        "audio_available": recording.audio_path is not None,
        "uploaded_by_id": recording.uploaded_by_id,
        "device_id": recording.device_id,
        "created_at": recording.created_at,
        **job_view(job),
    }


def _check_dictionaries(db: DbSession, caller: CurrentCaller, ids: list[int]) -> None:
    for dictionary_id in ids:
        found = db.get(Dictionary, dictionary_id) if 0 < dictionary_id <= MAX_ID else None
        usable = found is not None and (found.department_id is None or found.department_id == caller.user.department_id)
        if not usable:
            raise ServiceError(422, "dictionary", f"用語辞書 {dictionary_id} は使えません。")


def _check_text(label: str, value: str) -> None:
    code = unsafe_character(value)
    if code is not None:
        raise ServiceError(422, "invalid", f"{label}に使えない文字 ({code}) が含まれています。")


def _held_at(value: datetime | None) -> datetime | None:
    """A time without a zone (what a browser's date-time field sends) is Japan time; stored as UTC."""
    if value is None:
        return None
    if value.utcoffset() is None:
        value = value.replace(tzinfo=TOKYO)
    if not 1900 <= value.year <= 2200:
        raise ServiceError(422, "invalid", "日時 (held_at) が正しくありません。")
    return value


@router.post(
    "",
    status_code=201,
    summary="録音をアップロードして文字起こしを始める",
    form_limits={"max_files": 1, "max_fields": MAX_FORM_FIELDS, "max_part_size": MAX_FORM_PART},
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
) -> dict[str, Any]:
    settings = get_settings()
    for label, value in (("タイトル", title), ("場所", place), ("出席者", attendees)):
        _check_text(label, value)
    held_at = _held_at(held_at)
    dictionary_ids = list(dictionary or [])
    _check_dictionaries(db, caller, dictionary_ids)
    storage = settings.resolved_storage()
    # Streamed to a temporary file beside the store (same disk: the final move is a rename).
    with tempfile.NamedTemporaryFile(dir=uploads_dir(storage), suffix=".upload", delete=False) as handle:
        partial = handle.name
    path = Path(partial)
    try:
        stream_to_file(file.file, path, settings.max_upload_bytes)
        info = probe_upload(path)
        recording, job = store_recording(
            db,
            storage=storage,
            uploaded=path,
            info=info,
            original_filename=original_name(file.filename),  # metadata only: never part of a path
            department_id=caller.user.department_id,
            source=Source.web if caller.via == "session" else Source.api,
            kind=kind,
            title=title,
            held_at=held_at,
            place=place,
            attendees=attendees,
            expected_speakers=speakers,
            dictionary_ids=dictionary_ids,
            uploaded_by_id=caller.user_id,
            max_attempts=settings.max_attempts,
        )
    finally:
        path.unlink(missing_ok=True)
    audit(db, "recording.upload", caller=caller, recording_id=recording.id, ip=client_ip(request))
    return recording_view(recording, job)


@router.get("", summary="録音の一覧")
def list_recordings(
    db: DbSession,
    caller: CurrentCaller,
    kind: Kind | None = None,
    status: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="タイトル検索")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    # One query: each recording with its newest job (no query per row), filtered and paged in SQL.
    newest = select(Job.recording_id, func.max(Job.id).label("job_id")).group_by(col(Job.recording_id)).subquery()
    query = (
        select(Recording, Job)
        .join(newest, newest.c.recording_id == Recording.id, isouter=True)
        .join(Job, col(Job.id) == newest.c.job_id, isouter=True)
        .where(col(Recording.deleted_at).is_(None))
    )
    if caller.role != Role.admin:
        query = query.where(Recording.department_id == caller.user.department_id)
    if kind is not None:
        query = query.where(Recording.kind == kind)
    if status is not None:
        query = query.where(Job.status == status)
    if q:
        query = query.where(col(Recording.title).contains(q, autoescape=True))
    if since is not None:
        query = query.where(col(Recording.created_at) >= since)
    if until is not None:
        query = query.where(col(Recording.created_at) < until)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    page = query.order_by(col(Recording.created_at).desc(), col(Recording.id).desc()).offset(offset).limit(limit)
    items = [recording_view(recording, job) for recording, job in db.exec(page).all()]
    return {"total": total, "items": items}


@router.get("/{recording_id}", summary="録音と処理状況")
def get_recording(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    # Not audited: pages poll this for progress, and it shows only what the (unaudited) list shows.
    # Views of the content (transcript, minutes, audio, exports) are audited.
    return recording_view(recording, latest_job(db, recording_id))


@router.post("/{recording_id}/cancel", summary="処理の取り消し")
def cancel_recording(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    job = latest_job(db, recording_id)
    if job is None or job.status not in ("queued", "running"):
        raise ServiceError(409, "not_running", "処理中ではないため取り消せません。")
    job = cancel(db, job)
    audit(db, "recording.cancel", caller=caller, recording_id=recording_id, ip=client_ip(request))
    return recording_view(recording, job)


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


@router.post("/{recording_id}/speakers", status_code=202, summary="話者数を変えて話者を付け直す (再文字起こしなし)")
def relabel_speakers(
    recording_id: int, body: SpeakerCount, request: Request, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    """The diarizer runs again with the new count and the machine transcript's words are assigned to
    the new speakers; the text is not recognised again, and no usage is recorded."""
    recording = visible_recording(db, caller, recording_id)
    job = latest_job(db, recording_id)
    if job is not None and job.status in ("queued", "running"):
        raise ServiceError(409, "busy", "処理中です。終わってから話者数を変更してください。")
    if db.exec(select(TranscriptRecord.id).where(TranscriptRecord.recording_id == recording_id)).first() is None:
        raise ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")
    # The relabel replaces the machine transcript; minutes the clerks saved from it would not follow.
    if db.exec(select(MinutesRevision.id).where(MinutesRevision.recording_id == recording_id)).first() is not None:
        raise ServiceError(409, "minutes_saved", "議事録を保存した後は話者数を変更できません。")
    if recording.audio_path is None:
        raise ServiceError(410, "audio_deleted", "保存期間を過ぎたため音声は削除されています。話者数を変更できません。")
    low, high = (body.count, body.count) if body.count is not None else (body.min, body.max)
    job = queue_relabel(db, recording_id, low, high, get_settings().max_attempts)
    wanted = f"count {body.count}" if body.count is not None else f"min {low} max {high}"
    audit(db, "recording.relabel", caller=caller, recording_id=recording_id, detail=wanted, ip=client_ip(request))
    return recording_view(recording, job)


@router.delete("/{recording_id}", status_code=204, summary="録音・文字起こし・議事録を削除")
def delete_recording(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    recording = visible_recording(db, caller, recording_id)
    job = latest_job(db, recording_id)
    if job is not None and job.status in ("queued", "running"):
        cancel(db, job)
    remove_audio(get_settings().resolved_storage(), recording.audio_path)
    for stored in db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording_id)).all():
        db.delete(stored)
    for revision in db.exec(select(MinutesRevision).where(MinutesRevision.recording_id == recording_id)).all():
        db.delete(revision)
    for copy in db.exec(select(PublicationCopy).where(PublicationCopy.recording_id == recording_id)).all():
        db.delete(copy)  # the publication copy holds the masked text
    # The row stays, emptied, so the usage ledger and the audit trail keep their reference.
    recording.audio_path, recording.audio_deleted_at, recording.deleted_at = None, utcnow(), utcnow()
    recording.title, recording.place, recording.attendees, recording.original_filename = "(削除済み)", "", "", ""
    db.add(recording)
    audit(db, "recording.delete", caller=caller, recording_id=recording_id, ip=client_ip(request), commit=False)
    db.commit()
    index_recording(db, recording_id)  # out of the search index too
    return Response(status_code=204)


def _transcript_body(db: DbSession, recording_id: int) -> dict[str, Any]:
    stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording_id)).first()
    if stored is None:
        raise ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")
    return stored.body


@router.get("/{recording_id}/transcript", summary="機械の文字起こし (kiroku.transcript/1)")
def get_transcript(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    visible_recording(db, caller, recording_id)
    body = _transcript_body(db, recording_id)
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="transcript", ip=client_ip(request))
    return body


@router.get("/{recording_id}/minutes", summary="編集中の議事録 (ETag 付き)")
def get_minutes(
    recording_id: int, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    current = current_minutes(db, recording)
    if current is None:
        raise ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")
    number, body = current
    response.headers["ETag"] = etag(number)
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="minutes", ip=client_ip(request))
    return {"revision": number, **body}


@router.put("/{recording_id}/minutes", summary="議事録を保存 (If-Match 必須)", openapi_extra=MINUTES_BODY_DOC)
def put_minutes(
    recording_id: int,
    request: Request,
    response: Response,
    db: DbSession,
    caller: CurrentCaller,
    body: Annotated[dict[str, Any], Depends(minutes_json)],  # read strictly, after the caller is known
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    current = current_minutes(db, recording)
    if current is None:
        raise ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")
    if if_match is None:
        raise ServiceError(428, "if_match", "If-Match ヘッダー(読み込んだ版)が必要です。")
    number, _ = current
    if parse_etag(if_match) != number:
        raise ServiceError(
            409,
            "conflict",
            "他の人が先に保存しました。最新の版を読み込んでから編集してください。",
            {"ETag": etag(number)},
        )
    try:
        minutes = Minutes.model_validate({k: v for k, v in body.items() if k != "revision"})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = f"{where}: {first['msg']}" if where else first["msg"]
        raise ServiceError(422, "invalid_minutes", f"議事録の形式が正しくありません: {problem}") from error
    assert recording.id is not None
    stored = minutes.model_dump(mode="json", by_alias=True)
    _drop_autosave_checkpoint(db, recording.id, number, caller)
    db.add(MinutesRevision(recording_id=recording.id, number=number + 1, body=stored, author_id=caller.user_id))
    machine = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
    if machine is not None:  # the quality figure: how much of the machine's text the clerks changed
        recording.machine_chars, recording.edited_chars = edit_counts(machine.body, minutes)
        db.add(recording)
    detail = f"revision {number + 1}"
    audit(
        db,
        "recording.edit",
        caller=caller,
        recording_id=recording_id,
        detail=detail,
        ip=client_ip(request),
        commit=False,
    )
    try:
        db.commit()
    except Exception as error:  # two saves of the same revision at once: the unique key refuses one
        db.rollback()
        raise ServiceError(409, "conflict", "他の人が同時に保存しました。最新の版を読み込んでください。") from error
    response.headers["ETag"] = etag(number + 1)
    index_recording(db, recording_id)  # search finds the saved text; never raises
    return {"revision": number + 1, **stored}


@router.get("/{recording_id}/minutes/revisions", summary="議事録の版の一覧")
def list_revisions(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> list[dict[str, Any]]:
    visible_recording(db, caller, recording_id)
    rows = db.exec(
        select(MinutesRevision)
        .where(MinutesRevision.recording_id == recording_id)
        .order_by(col(MinutesRevision.number))
    ).all()
    revisions = [{"revision": r.number, "author_id": r.author_id, "created_at": r.created_at} for r in rows]
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="revisions", ip=client_ip(request))
    return revisions


@router.get("/{recording_id}/minutes/revisions/{number}", summary="議事録の版 (0 は機械の文字起こし)")
def get_revision(
    recording_id: int,
    number: Annotated[int, PathParam(ge=0, le=MAX_ID)],
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
) -> dict[str, Any]:
    """One saved revision's minutes, to look at or to restore (by saving it again as a new revision)."""
    recording = visible_recording(db, caller, recording_id)
    if number == 0:
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording_id)).first()
        if stored is None:
            raise not_found()
        view: dict[str, Any] = {"revision": 0, "author_id": None, "created_at": stored.created_at}
        body: dict[str, Any] = {"header": initial_header(recording), "transcript": stored.body}
    else:
        row = db.exec(
            select(MinutesRevision).where(
                MinutesRevision.recording_id == recording_id, MinutesRevision.number == number
            )
        ).first()
        if row is None:
            raise not_found()
        view, body = {"revision": row.number, "author_id": row.author_id, "created_at": row.created_at}, row.body
    detail = f"revision {number}"
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail=detail, ip=client_ip(request))
    return {**view, **body}


@router.get("/{recording_id}/export", summary="書き出し (docx, txt, srt, vtt, json)")
def export_recording(
    recording_id: int,
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    format: Annotated[str, Query(pattern="^(docx|txt|srt|vtt|json)$")] = "docx",
) -> Response:
    recording = visible_recording(db, caller, recording_id)
    current = current_minutes(db, recording)
    if current is None:
        raise ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")
    minutes = Minutes.model_validate(current[1])
    template = get_settings().resolved_storage() / "templates" / f"{recording.kind}.docx"
    data = export(minutes, format, recording.kind, name=f"recording-{recording_id}", template=template)
    audit(db, "recording.export", caller=caller, recording_id=recording_id, detail=format, ip=client_ip(request))
    filename = f"{KIND_LABELS.get(recording.kind, '記録')}-{recording_id}.{format}"
    ascii_name = f"recording-{recording_id}.{format}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})


AUDIO_AUDIT_WINDOW = timedelta(minutes=10)
CHECKPOINT_WINDOW = timedelta(minutes=2)


def _drop_autosave_checkpoint(db: Session, recording_id: int, number: int, caller: Caller) -> None:
    """The editor saves every few seconds while a clerk types; whole revisions would pile up (a
    one-hour meeting's minutes are hundreds of KB). The clerk's own previous revision, saved less
    than two minutes ago, is superseded by this one: the history keeps one version per pause in the
    work, the first revision and everyone else's revisions. The audit trail still has every save."""
    if number <= 1:
        return
    previous = db.exec(
        select(MinutesRevision).where(MinutesRevision.recording_id == recording_id, MinutesRevision.number == number)
    ).first()
    if previous is None or previous.author_id != caller.user_id:
        return
    saved = previous.created_at if previous.created_at.tzinfo else previous.created_at.replace(tzinfo=UTC)
    if saved >= utcnow() - CHECKPOINT_WINDOW:
        db.delete(previous)


def _listened_recently(db: Session, caller: Caller, recording_id: int) -> bool:
    """A player fetches audio in many range requests while the clerk listens and seeks: the audit
    trail gets one event per person, recording and ten minutes, not one per request."""
    since = utcnow() - AUDIO_AUDIT_WINDOW
    return (
        db.exec(
            select(AuditEvent.id).where(
                AuditEvent.user_id == caller.user_id,
                AuditEvent.recording_id == recording_id,
                AuditEvent.action == "recording.view",
                AuditEvent.detail == "audio",
                AuditEvent.at >= since,
            )
        ).first()
        is not None
    )


@router.get("/{recording_id}/audio", summary="録音の音声")
def get_audio(recording_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    from fastapi.responses import FileResponse

    recording = visible_recording(db, caller, recording_id)
    if recording.audio_path is None:
        raise ServiceError(410, "audio_deleted", "保存期間を過ぎたため音声は削除されています。")
    path = get_settings().resolved_storage() / recording.audio_path
    if not path.is_file():
        raise not_found()
    if not _listened_recently(db, caller, recording_id):
        audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="audio", ip=client_ip(request))
    return FileResponse(path, filename=f"recording-{recording_id}{path.suffix}")

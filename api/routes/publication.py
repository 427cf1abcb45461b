"""公開用 (publication copy): the minutes with personal data masked, for 情報公開. The minutes stay as they are.

- ``POST /recordings/{id}/publication`` finds candidates in the current minutes (``service.masking``),
  keeping earlier decisions and manual additions;
- ``GET`` shows the candidates and a masked preview (ETag like the minutes);
- ``PUT`` (If-Match) confirms, rejects, adds (a range, or a text everywhere) and removes spans;
- ``GET …/publication/export?format=docx|txt`` writes the masked copy.

A copy belongs to one revision of the minutes; once the minutes change it is stale: it can be
viewed, but must be refreshed (POST) before it is edited or exported, so that new text is checked.
Every creation, edit and export is an audit event (ids and counts, never the masked text).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.auth import CurrentCaller, DbSession, client_ip
from api.routes.recordings import KIND_LABELS
from service.access import audit, visible_recording
from service.errors import ServiceError
from service.exports import MEDIA_TYPES, export
from service.masking import (
    PERSON_CATEGORIES,
    STATUSES,
    add_span,
    masked_minutes,
    masked_spans,
    minutes_fields,
    refresh,
    speaker_names,
)
from service.minutes import Minutes, current_minutes, initial_header
from service.models import (
    Dictionary,
    DictionaryTerm,
    MinutesRevision,
    PublicationCopy,
    Recording,
    TranscriptRecord,
    utcnow,
)
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/recordings", tags=["publication"])


def etag(revision: int) -> str:
    return f'"p{revision}"'


_ETAG = re.compile(r'(?:W/)?"?p([0-9]{1,9})"?')


def parse_etag(value: str) -> int | None:
    found = _ETAG.fullmatch(value.strip())
    return int(found.group(1)) if found else None


def _not_ready() -> ServiceError:
    return ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")


def _no_copy() -> ServiceError:
    return ServiceError(409, "no_publication", "公開用はまだ作成されていません。先に作成してください。")


def _stale() -> ServiceError:
    return ServiceError(
        409, "stale_publication", "議事録が更新されています。公開用を更新して、新しい候補を確認してください。"
    )


def _copy(db: Session, recording_id: int) -> PublicationCopy | None:
    return db.exec(select(PublicationCopy).where(PublicationCopy.recording_id == recording_id)).first()


def _minutes_at(db: Session, recording: Recording, number: int) -> dict[str, Any] | None:
    """The minutes as they were at a revision (0: the machine transcript)."""
    if number == 0:
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
        return None if stored is None else {"header": initial_header(recording), "transcript": stored.body}
    revision = db.exec(
        select(MinutesRevision).where(MinutesRevision.recording_id == recording.id, MinutesRevision.number == number)
    ).first()
    return None if revision is None else revision.body


def _person_names(db: Session, recording: Recording) -> list[str]:
    """人名 terms (and their wrong forms) of the dictionaries the recording's department uses."""
    query = (
        select(DictionaryTerm)
        .join(Dictionary, col(Dictionary.id) == DictionaryTerm.dictionary_id)
        .where(
            col(Dictionary.department_id).is_(None) | (col(Dictionary.department_id) == recording.department_id),
        )
    )
    names: list[str] = []
    for row in db.exec(query).all():
        if any(c in row.category.lower() for c in PERSON_CATEGORIES):
            names += [row.surface, *(a for a in row.aliases.split("|") if a)]
    return names


def _view(db: Session, recording: Recording, copy: PublicationCopy) -> dict[str, Any]:
    current = current_minutes(db, recording)
    current_number = current[0] if current else 0
    stale = current_number != copy.minutes_revision
    body = (current[1] if current and not stale else _minutes_at(db, recording, copy.minutes_revision)) or {}
    spans = list(copy.body.get("spans") or [])
    preview = masked_minutes(body, copy.body)
    transcript = preview.get("transcript") or {}
    counts = {status: sum(1 for s in spans if s["status"] == status) for status in STATUSES}
    return {
        "recording_id": recording.id,
        "revision": copy.revision,
        "minutes_revision": copy.minutes_revision,
        "current_minutes_revision": current_number,
        "stale": stale,
        "created_at": copy.created_at,
        "updated_at": copy.updated_at,
        "updated_by_id": copy.updated_by_id,
        "counts": {**counts, "manual": sum(1 for s in spans if s["source"] == "manual"), "total": len(spans)},
        "lost": int(copy.body.get("lost") or 0),
        "spans": spans,
        "preview": {
            "header": preview.get("header") or {},
            "speakers": transcript.get("speakers") or [],
            "segments": [
                {
                    "index": k,
                    "speaker": s.get("speaker"),
                    "start": s.get("start"),
                    "end": s.get("end"),
                    "text": s["text"],
                }
                for k, s in enumerate(transcript.get("segments") or [])
            ],
        },
    }


@router.post("/{recording_id}/publication", summary="公開用を作成・更新 (個人情報の候補を検出)")
def create_publication(
    recording_id: int, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    current = current_minutes(db, recording)
    if current is None:
        raise _not_ready()
    number, body = current
    copy = _copy(db, recording_id)
    old_body = _minutes_at(db, recording, copy.minutes_revision) if copy else None
    names = [*speaker_names(body), *_person_names(db, recording)]
    old_fields = minutes_fields(old_body) if old_body is not None else None
    refreshed = refresh(copy.body if copy else None, old_fields, minutes_fields(body), names)
    created = copy is None
    if copy is None:
        copy = PublicationCopy(recording_id=recording_id, body=refreshed, minutes_revision=number)
        copy.updated_by_id = caller.user_id
        db.add(copy)
    else:
        expected = copy.revision
        done = db.execute(
            update(PublicationCopy)
            .where(col(PublicationCopy.id) == copy.id, col(PublicationCopy.revision) == expected)
            .values(
                body=refreshed,
                revision=expected + 1,
                minutes_revision=number,
                updated_by_id=caller.user_id,
                updated_at=utcnow(),
            )
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            db.rollback()
            raise ServiceError(409, "conflict", "他の人が同時に公開用を更新しました。読み込み直してください。")
    detail = f"minutes {number} candidates {len(refreshed['spans'])} lost {refreshed['lost']}"
    audit(
        db,
        "publication.create" if created else "publication.refresh",
        caller=caller,
        recording_id=recording_id,
        detail=detail,
        ip=client_ip(request),
        commit=False,
    )
    try:
        db.commit()
    except Exception as error:  # two first creations at once: the unique key refuses one
        db.rollback()
        raise ServiceError(409, "conflict", "他の人が同時に公開用を作成しました。読み込み直してください。") from error
    stored = _copy(db, recording_id)
    assert stored is not None
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(stored.revision)
    return _view(db, recording, stored)


@router.get("/{recording_id}/publication", summary="公開用 (候補とマスク後のプレビュー、ETag 付き)")
def get_publication(
    recording_id: int, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    copy = _copy(db, recording_id)
    if copy is None:
        if current_minutes(db, recording) is None:
            raise _not_ready()
        raise _no_copy()
    response.headers["ETag"] = etag(copy.revision)
    view = _view(db, recording, copy)
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="publication", ip=client_ip(request))
    return view


class SpanChange(BaseModel):
    id: str = Field(max_length=20)
    status: Literal["proposed", "confirmed", "rejected"]


class TextChange(BaseModel):
    text: str = Field(min_length=1, max_length=200, description="この文字列の候補すべて")
    status: Literal["proposed", "confirmed", "rejected"]


class SpanAddition(BaseModel):
    target: str | None = Field(default=None, max_length=50, description="segment.<番号> / header.<項目> / speaker.<ID>")
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=1)
    text: str | None = Field(default=None, min_length=1, max_length=200, description="この文字列をすべてマスク")


class PublicationEdit(BaseModel):
    changes: list[SpanChange] = Field(default_factory=list, max_length=5000)
    by_text: list[TextChange] = Field(default_factory=list, max_length=200)
    add: list[SpanAddition] = Field(default_factory=list, max_length=1000)
    remove: list[str] = Field(default_factory=list, max_length=1000, description="手動で追加した範囲の ID")


def _apply(edit: PublicationEdit, copy_body: dict[str, Any], fields: dict[str, str]) -> dict[str, int]:
    """Apply an edit to a copy (in place); returns the counts for the audit trail. Raises ServiceError."""
    spans: list[dict[str, Any]] = copy_body.setdefault("spans", [])
    by_id = {s["id"]: s for s in spans}
    changed = {status: 0 for status in STATUSES}
    for change in edit.changes:
        span = by_id.get(change.id)
        if span is None:
            raise ServiceError(422, "unknown_span", f"範囲 {change.id} はありません。")
        span["status"] = change.status
        changed[change.status] += 1
    for text_change in edit.by_text:
        for span in spans:
            if span["text"] == text_change.text:
                span["status"] = text_change.status
                changed[text_change.status] += 1
    added = 0
    for addition in edit.add:
        try:
            if addition.text is not None:
                for target, text in fields.items():
                    start = text.find(addition.text)
                    while start >= 0:
                        add_span(copy_body, fields, target, start, start + len(addition.text))
                        added += 1
                        start = text.find(addition.text, start + len(addition.text))
            elif addition.target is not None and addition.start is not None and addition.end is not None:
                add_span(copy_body, fields, addition.target, addition.start, addition.end)
                added += 1
            else:
                raise ValueError("追加する範囲 (target, start, end) か文字列 (text) を指定してください。")
        except ValueError as error:
            raise ServiceError(422, "invalid_span", str(error)) from error
    removed = 0
    for span_id in edit.remove:
        span = by_id.get(span_id)
        if span is None or span["source"] != "manual":
            raise ServiceError(
                422, "unknown_span", f"手動で追加した範囲 {span_id} はありません。(自動の候補は却下してください)"
            )
        copy_body["spans"] = [s for s in copy_body["spans"] if s["id"] != span_id]
        removed += 1
    return {**changed, "added": added, "removed": removed}


@router.put("/{recording_id}/publication", summary="候補の確定・却下、範囲の追加・削除 (If-Match 必須)")
def put_publication(
    recording_id: int,
    edit: PublicationEdit,
    request: Request,
    response: Response,
    db: DbSession,
    caller: CurrentCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    copy = _copy(db, recording_id)
    if copy is None:
        raise _no_copy()
    if if_match is None:
        raise ServiceError(428, "if_match", "If-Match ヘッダー(読み込んだ版)が必要です。")
    if parse_etag(if_match) != copy.revision:
        raise ServiceError(
            409,
            "conflict",
            "他の人が先に公開用を保存しました。最新の版を読み込んでから編集してください。",
            {"ETag": etag(copy.revision)},
        )
    current = current_minutes(db, recording)
    if current is None or current[0] != copy.minutes_revision:
        raise _stale()
    body = {**copy.body, "spans": [dict(s) for s in copy.body.get("spans") or []]}
    counts = _apply(edit, body, minutes_fields(current[1]))
    done = db.execute(
        update(PublicationCopy)
        .where(col(PublicationCopy.id) == copy.id, col(PublicationCopy.revision) == copy.revision)
        .values(body=body, revision=copy.revision + 1, updated_by_id=caller.user_id, updated_at=utcnow())
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        db.rollback()
        raise ServiceError(409, "conflict", "他の人が同時に公開用を保存しました。最新の版を読み込んでください。")
    detail = f"revision {copy.revision + 1} " + " ".join(f"{k} {v}" for k, v in counts.items())
    audit(db, "publication.edit", caller=caller, recording_id=recording_id, detail=detail, ip=client_ip(request))
    stored = _copy(db, recording_id)
    assert stored is not None
    response.headers["ETag"] = etag(stored.revision)
    return _view(db, recording, stored)


@router.get("/{recording_id}/publication/export", summary="公開用の書き出し (docx, txt)")
def export_publication(
    recording_id: int,
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    format: Annotated[str, Query(pattern="^(docx|txt)$")] = "docx",
) -> Response:
    recording = visible_recording(db, caller, recording_id)
    copy = _copy(db, recording_id)
    if copy is None:
        raise _no_copy()
    current = current_minutes(db, recording)
    if current is None or current[0] != copy.minutes_revision:
        raise _stale()
    minutes = Minutes.model_validate(masked_minutes(current[1], copy.body))
    template = get_settings().resolved_storage() / "templates" / f"{recording.kind}.docx"
    data = export(minutes, format, recording.kind, name=f"publication-{recording_id}", template=template)
    spans = copy.body.get("spans") or []
    masked = sum(len(v) for v in masked_spans(copy.body).values())
    unreviewed = sum(1 for s in spans if s["status"] == "proposed")
    detail = f"{format} revision {copy.revision} masked {masked} unreviewed {unreviewed}"
    audit(db, "publication.export", caller=caller, recording_id=recording_id, detail=detail, ip=client_ip(request))
    filename = f"公開用-{KIND_LABELS.get(recording.kind, '記録')}-{recording_id}.{format}"
    ascii_name = f"publication-{recording_id}.{format}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})

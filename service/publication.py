"""公開用 (publication copy): the minutes with personal data masked, for 情報公開. The minutes stay as they are.

A copy holds the spans found in one revision of the minutes (``service.masking``: automatic
candidates and manual additions, each proposed, confirmed or rejected) and its own ``revision``
(the ETag, as for the minutes). Creating it again (``create_or_refresh``) finds candidates in the
current minutes, keeping earlier decisions and manual additions. Once the minutes change the copy is
stale: it can be viewed, but must be refreshed before it is edited or exported, so that new text is
checked. Every creation, edit and export is an audit event (ids and counts, never the masked text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlmodel import Session, col, select

from service.access import Caller, audit
from service.dictionaries import department_dictionary_ids, dictionary_terms
from service.errors import ServiceError
from service.exports import ExportOptions, export
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
from service.models import MinutesRevision, PublicationCopy, Recording, TranscriptRecord, utcnow
from service.records.templates import template_for
from service.settings import get_settings

SpanStatus = Literal["proposed", "confirmed", "rejected"]


def not_ready() -> ServiceError:
    return ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")


def no_copy() -> ServiceError:
    return ServiceError(409, "no_publication", "公開用はまだ作成されていません。先に作成してください。")


def stale_copy() -> ServiceError:
    return ServiceError(
        409, "stale_publication", "議事録が更新されています。公開用を更新して、新しい候補を確認してください。"
    )


def copy_of(db: Session, recording_id: int) -> PublicationCopy | None:
    return db.exec(select(PublicationCopy).where(PublicationCopy.recording_id == recording_id)).first()


def minutes_at(db: Session, recording: Recording, number: int) -> dict[str, Any] | None:
    """The minutes as they were at a revision (0: the machine transcript)."""
    if number == 0:
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
        return None if stored is None else {"header": initial_header(recording), "transcript": stored.body}
    revision = db.exec(
        select(MinutesRevision).where(MinutesRevision.recording_id == recording.id, MinutesRevision.number == number)
    ).first()
    return None if revision is None else revision.body


def person_names(db: Session, recording: Recording) -> list[str]:
    """人名 terms (and their wrong forms) of the dictionaries the recording's department uses."""
    names: list[str] = []
    for term in dictionary_terms(db, department_dictionary_ids(db, recording.department_id)):
        if any(c in term.category.lower() for c in PERSON_CATEGORIES):
            names += [term.term, *term.aliases]
    return names


# --- what a copy shows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyState:
    """A copy as shown: its minutes' revision against the current one, and the masked minutes."""

    copy: PublicationCopy
    current_minutes_revision: int
    stale: bool
    masked: dict[str, Any]  # the copy's minutes (the current ones unless stale) with the spans masked


def state(db: Session, recording: Recording, copy: PublicationCopy) -> CopyState:
    current = current_minutes(db, recording)
    current_number = current[0] if current else 0  # equivalent mutants (2): a copy is deleted with its minutes
    stale = current_number != copy.minutes_revision
    # equivalent mutants (1): `and False`: not stale, the copy's revision is the current one, read again
    body = (current[1] if current and not stale else minutes_at(db, recording, copy.minutes_revision)) or {}
    return CopyState(copy, current_number, stale, masked_minutes(body, copy.body))


def span_counts(copy_body: dict[str, Any]) -> dict[str, int]:
    """Spans by status, the manual ones, and all of them."""
    spans = list(copy_body.get("spans") or [])
    counts = {status: sum(1 for s in spans if s["status"] == status) for status in STATUSES}
    return {**counts, "manual": sum(1 for s in spans if s["source"] == "manual"), "total": len(spans)}


def _conflict(message: str) -> ServiceError:
    return ServiceError(409, "conflict", message)


# --- creating and refreshing -------------------------------------------------------------------------


def create_or_refresh(db: Session, caller: Caller, recording: Recording, *, ip: str) -> tuple[PublicationCopy, bool]:
    """The recording's copy made from its current minutes, and whether it is new (committed)."""
    assert recording.id is not None
    current = current_minutes(db, recording)
    if current is None:
        raise not_ready()
    number, body = current
    copy = copy_of(db, recording.id)
    old_body = minutes_at(db, recording, copy.minutes_revision) if copy else None
    names = [*speaker_names(body), *person_names(db, recording)]
    old_fields = minutes_fields(old_body) if old_body is not None else None
    refreshed = refresh(copy.body if copy else None, old_fields, minutes_fields(body), names)
    created = copy is None
    if copy is None:
        copy = PublicationCopy(recording_id=recording.id, body=refreshed, minutes_revision=number)
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
            raise _conflict("他の人が同時に公開用を更新しました。読み込み直してください。")
    detail = f"minutes {number} candidates {len(refreshed['spans'])} lost {refreshed['lost']}"
    audit(
        db,
        "publication.create" if created else "publication.refresh",
        caller=caller,
        recording_id=recording.id,
        detail=detail,
        ip=ip,
        commit=False,  # equivalent mutants (1): None is false too
    )
    try:
        db.commit()
    except Exception as error:  # two first creations at once: the unique key refuses one
        db.rollback()
        raise _conflict("他の人が同時に公開用を作成しました。読み込み直してください。") from error
    stored = copy_of(db, recording.id)
    assert stored is not None
    return stored, created


# --- editing -------------------------------------------------------------------------------------------


class SpanChange(BaseModel):
    id: str = Field(max_length=20)
    status: SpanStatus


class TextChange(BaseModel):
    text: str = Field(min_length=1, max_length=200, description="この文字列の候補すべて")
    status: SpanStatus


class SpanAddition(BaseModel):
    target: str | None = Field(default=None, max_length=50, description="segment.<番号> / header.<項目> / speaker.<ID>")
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=1)
    text: str | None = Field(default=None, min_length=1, max_length=200, description="この文字列をすべてマスク")


class PublicationEdit(BaseModel):
    """One save of a copy: decisions on spans (by id or by text), additions and removals of manual spans."""

    changes: list[SpanChange] = Field(default_factory=list, max_length=5000)
    by_text: list[TextChange] = Field(default_factory=list, max_length=200)
    add: list[SpanAddition] = Field(default_factory=list, max_length=1000)
    remove: list[str] = Field(default_factory=list, max_length=1000, description="手動で追加した範囲の ID")


def apply_edit(edit: PublicationEdit, copy_body: dict[str, Any], fields: dict[str, str]) -> dict[str, int]:
    """Apply an edit to a copy's body (in place); returns the counts for the audit trail. Raises ServiceError."""
    # equivalent mutants (2): every copy's body has spans (refresh writes them)
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


def save_edit(
    db: Session, caller: Caller, recording: Recording, copy: PublicationCopy, edit: PublicationEdit, *, ip: str
) -> PublicationCopy:
    """Apply an edit to the copy as read (its revision checked by the caller against If-Match) and store
    it as the next revision (committed); refused when the minutes changed or someone saved first."""
    assert recording.id is not None
    current = current_minutes(db, recording)
    if current is None or current[0] != copy.minutes_revision:
        raise stale_copy()
    body = {**copy.body, "spans": [dict(s) for s in copy.body.get("spans") or []]}
    counts = apply_edit(edit, body, minutes_fields(current[1]))
    done = db.execute(
        update(PublicationCopy)
        .where(col(PublicationCopy.id) == copy.id, col(PublicationCopy.revision) == copy.revision)
        .values(body=body, revision=copy.revision + 1, updated_by_id=caller.user_id, updated_at=utcnow())
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        db.rollback()
        raise _conflict("他の人が同時に公開用を保存しました。最新の版を読み込んでください。")
    detail = f"revision {copy.revision + 1} " + " ".join(f"{k} {v}" for k, v in counts.items())
    audit(db, "publication.edit", caller=caller, recording_id=recording.id, detail=detail, ip=ip)
    stored = copy_of(db, recording.id)
    assert stored is not None
    return stored


# --- exporting -----------------------------------------------------------------------------------------


def export_copy(
    db: Session,
    caller: Caller,
    recording: Recording,
    format: str,
    *,
    tidy: bool = False,
    timestamps: bool | None = None,
    ip: str,
) -> bytes:
    """The masked copy as a document (docx, txt; the kind's Word template where one is stored), marked
    公開用 in its header and footer; refused while it is missing or stale."""
    assert recording.id is not None
    copy = copy_of(db, recording.id)
    if copy is None:
        raise no_copy()
    current = current_minutes(db, recording)
    if current is None or current[0] != copy.minutes_revision:
        raise stale_copy()
    minutes = Minutes.model_validate(masked_minutes(current[1], copy.body))
    # equivalent mutants (1): `or True`: a text export uses no template
    template = template_for(db, get_settings().resolved_storage(), recording) if format == "docx" else None
    options = ExportOptions(tidy=tidy, timestamps=timestamps, publication=True)
    data = export(
        minutes,
        format,
        recording.kind,
        name=f"publication-{recording.id}",  # equivalent mutants (1): None: docx and txt are not named
        template=template,
        options=options,
    )
    spans = copy.body.get("spans") or []
    masked = sum(len(v) for v in masked_spans(copy.body).values())
    unreviewed = sum(1 for s in spans if s["status"] == "proposed")
    detail = f"{format} revision {copy.revision} masked {masked} unreviewed {unreviewed}"
    audit(db, "publication.export", caller=caller, recording_id=recording.id, detail=detail, ip=ip)
    return data

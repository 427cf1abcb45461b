"""A recording's life after the caller may see it: the upload from a browser or a script, the list,
cancelling, relabelling speakers, deletion on request, the transcript, exports and the audio.

Each function that shows or changes a recording's content writes its audit event (``ip``: the
client's address); the routes check access (``visible_recording``) before they call one.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, delete
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from service.access import Caller, audit, valid_id
from service.clock import TOKYO
from service.errors import ServiceError, not_found
from service.exports import MEDIA_TYPES, ExportOptions, export
from service.jobs import cancel, job_view, latest_job, lock_active_jobs, mark_canceled, queue_relabel, store_recording
from service.minutes import Minutes, unsafe_character
from service.models import (
    AuditEvent,
    Dictionary,
    Job,
    JobKind,
    JobStatus,
    MinutesRevision,
    PublicationCopy,
    Recording,
    Role,
    Source,
    TermProposal,
    TranscriptRecord,
    UploadSession,
    utcnow,
)
from service.records.fields import KNOWN_KEYS, MAX_FIELD, OTHER_LABELS
from service.records.naming import record_filename
from service.records.templates import template_for
from service.revisions import minutes_now, not_ready
from service.search import remove_from_index
from service.settings import get_settings
from service.storage import original_name, probe_upload, remove_audio, stream_to_file, uploads_dir

ACTIVE = (JobStatus.queued, JobStatus.running)
AUDIO_AUDIT_WINDOW = timedelta(minutes=10)


def recording_view(recording: Recording, job: Job | None) -> dict[str, Any]:
    """A recording with its newest job, as the API shows it (the job's keys: ``job_view``)."""
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
        **_relabel_undone(job),
    }


# What the list says of a relabel that did not change the speakers: the transcript is there as before.
RELABEL_NOTICES = {
    JobStatus.failed: "話者の再判定に失敗しました。文字起こしはそのまま使えます。",
    JobStatus.canceled: "話者の再判定は取り消されました。文字起こしはそのまま使えます。",
}


def _relabel_undone(job: Job | None) -> dict[str, Any]:
    """A relabel that failed or was canceled costs the recording nothing: it shows as transcribed
    (succeeded), with a notice; the job's own ``error`` stays for whoever looks closer."""
    if job is None or job.kind != JobKind.relabel or job.status not in RELABEL_NOTICES:
        return {}
    return {"status": JobStatus.succeeded, "progress": 1.0, "notice": RELABEL_NOTICES[JobStatus(job.status)]}


def _status_is(status: str) -> ColumnElement[bool]:
    """The list's status filter as the list shows the status (``_relabel_undone``)."""
    undone = (col(Job.kind) == JobKind.relabel) & col(Job.status).in_(list(RELABEL_NOTICES))
    if status == JobStatus.succeeded:
        return (col(Job.status) == status) | undone
    return (col(Job.status) == status) & ~undone


def _check_dictionaries(db: Session, caller: Caller, ids: list[int]) -> None:
    for dictionary_id in ids:
        found = db.get(Dictionary, dictionary_id) if valid_id(dictionary_id) else None
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


def upload_fields(fields: dict[str, str]) -> dict[str, str]:
    """The header fields sent with an upload, checked: known keys, text of a sensible length."""
    checked: dict[str, str] = {}
    for key, value in fields.items():
        if key not in KNOWN_KEYS or key in ("title", "held_at"):
            raise ServiceError(422, "invalid", f"記録の項目 {key[:50]} はありません。")
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise ServiceError(422, "invalid", f"{OTHER_LABELS[key]}は {MAX_FIELD} 文字までの文字列にしてください。")
        _check_text(OTHER_LABELS[key], value)
        if value.strip():
            checked[key] = value.strip()
    return checked


def receive_upload(
    db: Session,
    caller: Caller,
    stream: BinaryIO,
    *,
    filename: str | None,
    kind: str,
    title: str,
    held_at: datetime | None,
    place: str,
    attendees: str,
    speakers: int | None,
    dictionary_ids: list[int],
    ip: str,
    fields: dict[str, str] | None = None,
) -> tuple[Recording, Job]:
    """Store an uploaded file as a recording of the caller's department and queue its transcription.

    ``fields``: the kind's other header fields (受付者, 相手方 … by key: ``service.records.fields``)."""
    settings = get_settings()
    for label, value in (("タイトル", title), ("場所", place), ("出席者", attendees)):
        _check_text(label, value)
    fields = upload_fields(fields or {})
    held_at = _held_at(held_at)
    _check_dictionaries(db, caller, dictionary_ids)
    storage = settings.resolved_storage()
    # Streamed to a temporary file beside the store (same disk: the final move is a rename).
    with tempfile.NamedTemporaryFile(dir=uploads_dir(storage), suffix=".upload", delete=False) as handle:
        partial = handle.name
    path = Path(partial)
    try:
        stream_to_file(stream, path, settings.max_upload_bytes)
        info = probe_upload(path)
        recording, job = store_recording(
            db,
            storage=storage,
            uploaded=path,
            info=info,
            original_filename=original_name(filename),  # metadata only: never part of a path
            department_id=caller.user.department_id,
            source=Source.web if caller.via == "session" else Source.api,
            kind=kind,
            title=title,
            held_at=held_at,
            place=place,
            attendees=attendees,
            fields=fields,
            expected_speakers=speakers,
            dictionary_ids=dictionary_ids,
            uploaded_by_id=caller.user_id,
            max_attempts=settings.max_attempts,
        )
    finally:
        path.unlink(missing_ok=True)
    audit(db, "recording.upload", caller=caller, recording_id=recording.id, ip=ip)
    return recording, job


def list_recordings(
    db: Session,
    caller: Caller,
    *,
    kind: str | None,
    status: str | None,
    q: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """The caller's department's recordings (an admin's: all), newest first: ``total`` and a page of ``items``."""
    # One round trip: the page, each row's newest job (looked up per row of the page on the job's
    # recording index, not by grouping every job in the city) and the count of all matches.
    other = aliased(Job)
    newest = select(func.max(other.id)).where(other.recording_id == Recording.id).scalar_subquery()
    query = (
        select(Recording, Job, func.count().over())
        .join(Job, col(Job.id) == newest, isouter=True)
        .where(col(Recording.deleted_at).is_(None))
    )
    if caller.role != Role.admin:
        query = query.where(Recording.department_id == caller.user.department_id)
    if kind is not None:
        query = query.where(Recording.kind == kind)
    if status is not None:
        query = query.where(_status_is(status))
    if q:
        query = query.where(col(Recording.title).contains(q, autoescape=True))
    if since is not None:
        query = query.where(col(Recording.created_at) >= since)
    if until is not None:
        query = query.where(col(Recording.created_at) < until)
    page = query.order_by(col(Recording.created_at).desc(), col(Recording.id).desc()).offset(offset).limit(limit)
    rows = db.exec(page).all()
    # A page past the end has no row to carry the count: it is counted on its own.
    total = rows[0][2] if rows else db.exec(select(func.count()).select_from(query.subquery())).one()
    return {"total": total, "items": [recording_view(recording, job) for recording, job, _total in rows]}


def cancel_recording(db: Session, caller: Caller, recording: Recording, *, ip: str) -> Job:
    assert recording.id is not None
    job = latest_job(db, recording.id)
    if job is None or job.status not in ACTIVE:
        raise ServiceError(409, "not_running", "処理中ではないため取り消せません。")
    job = cancel(db, job)
    audit(db, "recording.cancel", caller=caller, recording_id=recording.id, ip=ip)
    return job


def relabel_speakers(
    db: Session,
    caller: Caller,
    recording: Recording,
    *,
    count: int | None,
    low: int | None,
    high: int | None,
    ip: str,
) -> Job:
    """Queue the diarizer again with exactly ``count`` speakers, or between ``low`` and ``high``; the
    machine transcript's words go to the new speakers. The text is not recognised again, and no usage
    is recorded."""
    assert recording.id is not None
    job = latest_job(db, recording.id)
    if job is not None and job.status in ACTIVE:
        raise ServiceError(409, "busy", "処理中です。終わってから話者数を変更してください。")
    if db.exec(select(TranscriptRecord.id).where(TranscriptRecord.recording_id == recording.id)).first() is None:
        raise not_ready()
    # The relabel replaces the machine transcript; minutes the clerks saved from it would not follow.
    if db.exec(select(MinutesRevision.id).where(MinutesRevision.recording_id == recording.id)).first() is not None:
        raise ServiceError(409, "minutes_saved", "議事録を保存した後は話者数を変更できません。")
    if recording.audio_path is None:
        raise ServiceError(410, "audio_deleted", "保存期間を過ぎたため音声は削除されています。話者数を変更できません。")
    if count is not None:
        low, high = count, count
    job = queue_relabel(db, recording.id, low, high, get_settings().max_attempts)
    wanted = f"count {count}" if count is not None else f"min {low} max {high}"
    audit(db, "recording.relabel", caller=caller, recording_id=recording.id, detail=wanted, ip=ip)
    return job


def delete_recording(db: Session, caller: Caller, recording: Recording, *, ip: str) -> None:
    """Everything the recording holds goes, in one transaction: audio, transcript, minutes and their
    revisions, the publication copy, the search index, the device upload's description (title, file
    name), term proposals still open; a running job is canceled and its worker stores nothing.

    The emptied row stays, so the usage ledger and the audit trail keep their reference (a device
    sending the recording again is answered with it, not with a new one)."""
    recording_id = recording.id
    assert recording_id is not None
    # Job rows first, then the recording's: the order the worker's store takes them in.
    for job in lock_active_jobs(db, recording_id):
        mark_canceled(job)
        db.add(job)
    fresh = select(Recording).where(Recording.id == recording_id).with_for_update()
    locked = db.exec(fresh.execution_options(populate_existing=True)).one()
    audio_path = locked.audio_path
    for table in (TranscriptRecord, MinutesRevision, PublicationCopy):  # the copy holds the masked text
        db.execute(delete(table).where(col(table.recording_id) == recording_id))
    remove_from_index(db, recording_id)
    _forget_proposals(db, recording_id)
    storage = get_settings().resolved_storage()
    for upload in db.exec(select(UploadSession).where(UploadSession.recording_id == recording_id)).all():
        upload.meta = {}  # the device's title and file name; the row itself answers a repeated upload
        db.add(upload)
    locked.audio_path, locked.audio_deleted_at, locked.deleted_at = None, utcnow(), utcnow()
    locked.title, locked.place, locked.attendees, locked.original_filename = "(削除済み)", "", "", ""
    db.add(locked)
    audit(db, "recording.delete", caller=caller, recording_id=recording_id, ip=ip, commit=False)
    db.commit()
    # The file after the rows: a failed commit leaves the recording whole, never without its audio.
    remove_audio(storage, audio_path)


def _forget_proposals(db: Session, recording_id: int) -> None:
    """Open and rejected proposals quote the recording's words: they go. An accepted one is in a
    dictionary now; it stays, without its place in the recording."""
    proposals = db.exec(select(TermProposal).where(TermProposal.recording_id == recording_id)).all()
    for proposal in proposals:
        if proposal.status == "accepted":
            proposal.recording_id, proposal.segment, proposal.start, proposal.end = None, None, None, None
            db.add(proposal)
        else:
            db.delete(proposal)


def read_transcript(db: Session, caller: Caller, recording: Recording, *, ip: str) -> dict[str, Any]:
    """The machine transcript (kiroku.transcript/1) as stored."""
    stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
    if stored is None:
        raise not_ready()
    audit(db, "recording.view", caller=caller, recording_id=recording.id, detail="transcript", ip=ip)
    return stored.body


@dataclass(frozen=True)
class Export:
    data: bytes
    media_type: str
    filename: str  # from the record: 20260415_予算説明会_会議録.docx
    ascii_name: str  # for clients that cannot read the other (recording-12.docx)


def export_name(recording: Recording, header: dict[str, Any], fmt: str, *, publication: bool = False) -> str:
    """``{日付}_{件名}_{会議録}.{fmt}``: the date held (else uploaded), the minutes' title (else the upload's)."""
    title = str(header.get("title") or recording.title or "")
    return record_filename(
        recording.kind, title, recording.held_at or recording.created_at, fmt, publication=publication
    )


def export_recording(
    db: Session, caller: Caller, recording: Recording, fmt: str, *, options: ExportOptions | None = None, ip: str
) -> Export:
    """The current minutes written as ``fmt`` (docx, txt, srt, vtt, json), 全文 or 整文."""
    options = options or ExportOptions()
    _number, body = minutes_now(db, recording)
    minutes = Minutes.model_validate(body)
    template = template_for(db, get_settings().resolved_storage(), recording) if fmt == "docx" else None
    data = export(minutes, fmt, recording.kind, name=f"recording-{recording.id}", template=template, options=options)
    detail = f"{fmt}{' tidy' if options.tidy else ''}{' timestamps' if options.timestamps else ''}"
    audit(db, "recording.export", caller=caller, recording_id=recording.id, detail=detail, ip=ip)
    return Export(
        data=data,
        media_type=MEDIA_TYPES[fmt],
        filename=export_name(recording, minutes.header, fmt),
        ascii_name=f"recording-{recording.id}.{fmt}",
    )


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


def audio_file(db: Session, caller: Caller, recording: Recording, *, ip: str) -> Path:
    """The stored audio file (410 once the retention period removed it)."""
    assert recording.id is not None
    if recording.audio_path is None:
        raise ServiceError(410, "audio_deleted", "保存期間を過ぎたため音声は削除されています。")
    path = get_settings().resolved_storage() / recording.audio_path
    if not path.is_file():
        raise not_found()
    if not _listened_recently(db, caller, recording.id):
        audit(db, "recording.view", caller=caller, recording_id=recording.id, detail="audio", ip=ip)
    return path

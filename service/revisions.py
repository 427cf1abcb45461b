"""Saving and reading the minutes' revisions: the ETag check against a stale save, the autosave
checkpoints, the edit counts of the quality figure, and the audit trail of every view and save."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from service.access import Caller, audit
from service.errors import ServiceError, not_found
from service.minutes import Minutes, current_minutes, edit_counts, etag, initial_header, parse_etag
from service.models import MinutesRevision, Recording, TranscriptRecord, utcnow
from service.search import index_after_save

CHECKPOINT_WINDOW = timedelta(minutes=2)


def not_ready() -> ServiceError:
    return ServiceError(409, "not_ready", "文字起こしはまだ完了していません。")


def stale(number: int) -> ServiceError:
    return ServiceError(
        409, "conflict", "他の人が先に保存しました。最新の版を読み込んでから編集してください。", {"ETag": etag(number)}
    )


def minutes_now(db: Session, recording: Recording) -> tuple[int, dict[str, Any]]:
    """(revision number, minutes JSON) of the minutes as they stand; 409 before the transcript exists."""
    current = current_minutes(db, recording)
    if current is None:
        raise not_ready()
    return current


def read_minutes(db: Session, caller: Caller, recording: Recording, *, ip: str) -> tuple[int, dict[str, Any]]:
    number, body = minutes_now(db, recording)
    audit(db, "recording.view", caller=caller, recording_id=recording.id, detail="minutes", ip=ip)
    return number, body


def save_minutes(
    db: Session, caller: Caller, recording: Recording, body: dict[str, Any], if_match: str | None, *, ip: str
) -> tuple[int, dict[str, Any]]:
    """Store ``body`` as the next revision if ``if_match`` names the current one (else 428 or 409).

    Returns the new revision's number and its stored minutes."""
    assert recording.id is not None
    number, _ = minutes_now(db, recording)
    if if_match is None:
        raise ServiceError(428, "if_match", "If-Match ヘッダー(読み込んだ版)が必要です。")
    if parse_etag(if_match) != number:
        raise stale(number)
    try:
        minutes = Minutes.model_validate({k: v for k, v in body.items() if k != "revision"})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = f"{where}: {first['msg']}" if where else first["msg"]
        raise ServiceError(422, "invalid_minutes", f"議事録の形式が正しくありません: {problem}") from error
    stored = minutes.model_dump(mode="json", by_alias=True)
    _drop_autosave_checkpoint(db, recording.id, number, caller)
    db.add(MinutesRevision(recording_id=recording.id, number=number + 1, body=stored, author_id=caller.user_id))
    machine = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
    if machine is not None:  # the quality figure: how much of the machine's text the clerks changed
        recording.machine_chars, recording.edited_chars = edit_counts(machine.body, minutes)
        db.add(recording)
    detail = f"revision {number + 1}"
    audit(db, "recording.edit", caller=caller, recording_id=recording.id, detail=detail, ip=ip, commit=False)
    try:
        db.commit()
    except Exception as error:  # two saves of the same revision at once: the unique key refuses one
        db.rollback()
        raise ServiceError(409, "conflict", "他の人が同時に保存しました。最新の版を読み込んでください。") from error
    index_after_save(db, recording.id, len(minutes.transcript.text))  # search finds the saved text; never raises
    return number + 1, stored


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


def _info(number: int, author_id: int | None, created_at: Any) -> dict[str, Any]:
    return {"revision": number, "author_id": author_id, "created_at": created_at}


def list_revisions(db: Session, caller: Caller, recording_id: int, *, ip: str) -> list[dict[str, Any]]:
    rows = db.exec(
        select(MinutesRevision)
        .where(MinutesRevision.recording_id == recording_id)
        .order_by(col(MinutesRevision.number))
    ).all()
    revisions = [_info(r.number, r.author_id, r.created_at) for r in rows]
    audit(db, "recording.view", caller=caller, recording_id=recording_id, detail="revisions", ip=ip)
    return revisions


def get_revision(db: Session, caller: Caller, recording: Recording, number: int, *, ip: str) -> dict[str, Any]:
    """One saved revision's minutes, to look at or to restore (by saving it again as a new revision);
    revision 0 is the machine transcript."""
    if number == 0:
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
        if stored is None:
            raise not_found()
        view = _info(0, None, stored.created_at)
        body: dict[str, Any] = {"header": initial_header(recording), "transcript": stored.body}
    else:
        row = db.exec(
            select(MinutesRevision).where(
                MinutesRevision.recording_id == recording.id, MinutesRevision.number == number
            )
        ).first()
        if row is None:
            raise not_found()
        view, body = _info(row.number, row.author_id, row.created_at), row.body
    audit(db, "recording.view", caller=caller, recording_id=recording.id, detail=f"revision {number}", ip=ip)
    return {**view, **body}

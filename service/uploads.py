"""Resumable uploads from meeting-room devices, without the protocol (``api.routes.uploads`` speaks tus).

The bytes grow in ``uploads/<id>.part`` under the storage directory; the file on disk, not the
database, says how many arrived. When the last byte is in, the file is probed and becomes a
recording with its job, once per device recording:

- An upload's id is derived from the device and its name for the recording, so a repeated creation
  (a retry, or two at once) finds the same upload: still in progress → resumed; finished → the same
  recording.
- The database's unique key on (device, device recording id) is the last guard: a second recording
  is never stored, its insert fails and the existing one is returned.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service.access import audit
from service.errors import ServiceError, not_found
from service.jobs import job_view, latest_job, store_recording
from service.models import Device, Recording, Source, UploadSession, utcnow
from service.settings import get_settings
from service.storage import audio_dir, probe_upload, uploads_dir

log = logging.getLogger(__name__)

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadMeta(Protocol):
    """What the device said about the recording when it created the upload."""

    @property
    def filename(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def held_at(self) -> datetime | None: ...
    @property
    def speakers(self) -> int | None: ...


def upload_id_for(device_id: int, recording_id: str | None) -> str:
    """The same device and recording always name the same upload (a doubled creation finds the first)."""
    if recording_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"kiroku.upload\0{device_id}\0{recording_id}".encode()).hexdigest()[:32]


def valid_upload_id(upload_id: str) -> bool:
    return _UPLOAD_ID.match(upload_id) is not None


def part_path(storage: Path, upload_id: str) -> Path:
    return uploads_dir(storage) / f"{upload_id}.part"


def lock_path(storage: Path, upload_id: str) -> Path:
    """The lock file requests on one upload take turns on (``service.maintenance`` respects it too)."""
    return uploads_dir(storage) / f"{upload_id}.lock"


def received(session: UploadSession, part: Path) -> int:
    """Bytes received. Those on disk are the truth (the row may lag behind after a crash, or run ahead
    of a lost file)."""
    if session.completed_at is not None:
        return session.length
    try:
        return min(part.stat().st_size, session.length)
    except FileNotFoundError:
        return 0


def own_upload(db: Session, device: Device, upload_id: str) -> UploadSession:
    """A device sees its own uploads only; anything else is "not found" (ids cannot be probed)."""
    if not valid_upload_id(upload_id):
        raise not_found()
    session = db.get(UploadSession, upload_id)
    if session is None or session.device_id != device.id:
        raise not_found()
    return session


def fresh_upload(db: Session, device: Device, upload_id: str) -> UploadSession:
    """Read again once a request has its turn: the one before may have finished or removed it."""
    db.expire_all()
    return own_upload(db, device, upload_id)


def device_recording(db: Session, device_id: int | None, recording_id: str | None) -> Recording | None:
    """The recording a device stored under its own id for it."""
    if device_id is None or recording_id is None:
        return None
    query = select(Recording).where(Recording.device_id == device_id, Recording.device_recording_id == recording_id)
    return db.exec(query).first()


def open_upload(
    db: Session, device: Device, *, length: int, meta: dict[str, str], recording_id: str | None
) -> tuple[UploadSession, bool]:
    """A new upload of ``length`` bytes (True), or the one this device recording already has (False):
    to be resumed, or finished with its recording."""
    assert device.id is not None
    upload_id = upload_id_for(device.id, recording_id)
    if recording_id is not None:
        found = db.get(UploadSession, upload_id)
        if found is not None:
            return _again(found, length), False
        recording = device_recording(db, device.id, recording_id)
        if recording is not None:  # finished before its upload row existed (or the row was removed)
            return _again(_finished_row(db, upload_id, device, recording_id, recording, length), length), False
    session = UploadSession(
        id=upload_id,
        device_id=device.id,
        department_id=device.department_id,
        length=length,
        meta=meta,
        device_recording_id=recording_id,
    )
    db.add(session)
    try:
        db.commit()
    except IntegrityError:  # the same creation at the same moment: answered as its repeat
        db.rollback()
        found = db.get(UploadSession, upload_id)
        if found is None:
            raise
        return _again(found, length), False
    log.info("upload %s created by device %s (%d bytes)", upload_id, device.id, length)
    return session, True


def _finished_row(
    db: Session, upload_id: str, device: Device, recording_id: str, recording: Recording, length: int
) -> UploadSession:
    assert device.id is not None
    session = UploadSession(
        id=upload_id,
        device_id=device.id,
        department_id=recording.department_id,
        length=length,
        offset=length,
        device_recording_id=recording_id,
        completed_at=utcnow(),
        recording_id=recording.id,
    )
    db.add(session)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        found = db.get(UploadSession, upload_id)
        if found is None:
            raise
        return found
    return session


def _again(session: UploadSession, length: int) -> UploadSession:
    """A repeated creation: the same recording id for a file of another length is another recording."""
    if session.completed_at is None and session.length != length:
        raise ServiceError(
            409,
            "recording_id_in_use",
            "この録音 ID (recording_id) では長さの違うファイルを送信中です。別の録音なら別の ID を使ってください。",
        )
    return session


def save_offset(db: Session, session: UploadSession, offset: int) -> None:
    session.offset = offset
    db.add(session)
    db.commit()


def finish_upload(
    db: Session, device: Device, upload_id: str, part: Path, storage: Path, meta: UploadMeta, *, ip: str
) -> int:
    """All bytes are in: probe, then store the recording and queue its job (once per device recording).

    Returns the recording's id. Not audio: the upload and its bytes are removed (415)."""
    session = own_upload(db, device, upload_id)
    existing = device_recording(db, device.id, session.device_recording_id)
    if existing is not None:  # stored already (its upload row did not know): the same recording
        part.unlink(missing_ok=True)
        return _mark_finished(db, upload_id, existing)
    try:
        info = probe_upload(part)  # refused: the file is deleted
    except ServiceError:
        part.unlink(missing_ok=True)
        db.delete(session)
        db.commit()
        log.info("upload %s from device %s refused: not audio", upload_id, device.id)
        raise
    session.offset, session.completed_at = session.length, utcnow()
    db.add(session)  # committed together with the recording and its job
    inode = part.stat().st_ino
    try:
        recording, _job = store_recording(
            db,
            storage=storage,
            uploaded=part,
            info=info,
            original_filename=meta.filename,
            department_id=session.department_id,
            source=Source.device,
            kind=meta.kind,
            title=meta.title,
            max_attempts=get_settings().max_attempts,
            held_at=meta.held_at,
            expected_speakers=meta.speakers,
            device_id=device.id,
            device_recording_id=session.device_recording_id,
        )
    except IntegrityError:
        # Another request stored this device recording first: keep that one, drop this copy.
        db.rollback()
        moved = _moved(audio_dir(storage), inode)
        if moved is not None:
            moved.unlink(missing_ok=True)
        existing = device_recording(db, device.id, session.device_recording_id)
        if existing is None:
            raise
        return _mark_finished(db, upload_id, existing)
    except BaseException:
        # Not stored: put the bytes back, so the device completes it with an empty PATCH.
        db.rollback()
        moved = _moved(audio_dir(storage), inode)
        if moved is not None and not part.exists():
            moved.replace(part)
        raise
    assert recording.id is not None
    recording_id = recording.id
    _mark_finished(db, upload_id, recording)
    audit(db, "recording.upload", device=device, recording_id=recording_id, detail=f"tus {upload_id}", ip=ip)
    log.info("upload %s from device %s stored as recording %s", upload_id, device.id, recording_id)
    return recording_id


def _mark_finished(db: Session, upload_id: str, recording: Recording) -> int:
    assert recording.id is not None
    recording_id = recording.id
    session = db.get(UploadSession, upload_id)
    if session is not None:
        session.offset, session.recording_id = session.length, recording_id
        session.completed_at = session.completed_at or utcnow()
        db.add(session)
        db.commit()
    return recording_id


def _moved(folder: Path, inode: int) -> Path | None:
    """Where ``store_recording`` renamed the upload to (a rename keeps the inode)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.inode() == inode:
                return Path(entry.path)
    return None


def remove_upload(db: Session, device: Device, upload_id: str, part: Path) -> None:
    """Cancel an unfinished upload: its bytes, then its row (a file never outlives its row)."""
    session = fresh_upload(db, device, upload_id)
    if session.completed_at is not None:
        message = "送信済みの録音は取り消せません。録音の削除は画面から行ってください。"
        raise ServiceError(409, "upload_finished", message)
    part.unlink(missing_ok=True)
    db.delete(session)
    db.commit()


def device_recording_status(db: Session, device: Device, device_recording_id: str) -> dict[str, Any]:
    """The recording this device uploaded under its own id, with its job's status."""
    recording = device_recording(db, device.id, device_recording_id)
    if recording is None:
        raise not_found()
    assert recording.id is not None
    view = job_view(latest_job(db, recording.id))
    return {
        "id": recording.id,
        "device_recording_id": recording.device_recording_id,
        "created_at": recording.created_at,
        "deleted": recording.deleted_at is not None,
        **{key: view[key] for key in ("status", "stage", "progress", "error")},
    }

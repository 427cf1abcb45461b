"""Resumable uploads from meeting-room devices: tus 1.0 (core protocol, creation and termination).

A device creates an upload (``POST``), sends its bytes in one or more ``PATCH`` requests and, after a
dropped connection or a restart of the API, asks where to go on (``HEAD``). The bytes grow in
``uploads/<id>.part`` under the storage directory; the file on disk, not the database, says how
many arrived. When the last byte is in, the file is probed and becomes a recording with its job.

Nothing is lost or doubled:

- The device names each recording (``recording_id`` in ``Upload-Metadata``). An upload's id is
  derived from the device and that name, so a repeated ``POST`` (a retry, or two at once) finds the
  same upload: still in progress → the client resumes it; finished → the same recording.
- ``PATCH`` requests of one upload take turns (a lock file), and each checks ``Upload-Offset``
  against the bytes on disk after it has its turn; a late or doubled request gets 409.
- The database's unique key on (device, device recording id) is the last guard: a second recording
  is never stored, its insert fails and the existing one is returned.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from api.auth import CurrentDevice, DbSession, client_ip
from api.tus import (
    EXTENSIONS,
    OFFSET_CONTENT_TYPE,
    VERSION,
    check_version,
    encode_metadata,
    max_size,
    number_header,
    parse_metadata,
    recording_meta,
    stored_meta,
)
from service.access import audit
from service.errors import ServiceError, not_found
from service.jobs import job_view, latest_job, store_recording
from service.models import Device, Recording, Source, UploadSession, utcnow
from service.settings import get_settings
from service.storage import CHUNK, audio_dir, probe_upload, too_large, uploads_dir

log = logging.getLogger(__name__)

PREFIX = "/api/v1/uploads"
RECORDING_HEADER = "Kiroku-Recording-Id"
# A PATCH whose body stops arriving for this long ends (its bytes are kept) and frees the upload.
IDLE_SECONDS = 30.0
# How long a PATCH waits for another request on the same upload to finish before answering 423.
LOCK_WAIT_SECONDS = 10.0
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class TusRoute(APIRoute):
    """Every answer of a tus resource says ``Tus-Resumable``, errors (even the device check's) too."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tus_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "tus-resumable" not in headers:
                    headers.append("Tus-Resumable", VERSION)
            await send(message)

        await super().handle(scope, receive, tus_send)


router = APIRouter(prefix=PREFIX, tags=["uploads (devices)"], route_class=TusRoute)
TUS = [Depends(check_version)]


def upload_id_for(device_id: int, recording_id: str | None) -> str:
    """The same device and recording always name the same upload (a doubled POST finds the first)."""
    if recording_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"kiroku.upload\0{device_id}\0{recording_id}".encode()).hexdigest()[:32]


def _part(storage: Path, upload_id: str) -> Path:
    return uploads_dir(storage) / f"{upload_id}.part"


def _offset(session: UploadSession, part: Path) -> int:
    """The bytes on disk are the truth (the row may lag behind after a crash, or run ahead of a lost file)."""
    if session.completed_at is not None:
        return session.length
    try:
        return min(part.stat().st_size, session.length)
    except FileNotFoundError:
        return 0


def _own_session(db: Session, device: Device, upload_id: str) -> UploadSession:
    """A device sees its own uploads only; anything else is "not found" (ids cannot be probed)."""
    if not _UPLOAD_ID.match(upload_id):
        raise not_found()
    session = db.get(UploadSession, upload_id)
    if session is None or session.device_id != device.id:
        raise not_found()
    return session


def _device_recording(db: Session, device_id: int | None, recording_id: str | None) -> Recording | None:
    if device_id is None or recording_id is None:
        return None
    query = select(Recording).where(Recording.device_id == device_id, Recording.device_recording_id == recording_id)
    return db.exec(query).first()


def _location(request: Request, upload_id: str) -> str:
    base = get_settings().public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}{PREFIX}/{upload_id}"


def _state_headers(session: UploadSession, offset: int) -> dict[str, str]:
    headers = {"Upload-Offset": str(offset), "Upload-Length": str(session.length), "Cache-Control": "no-store"}
    if session.recording_id is not None:
        headers[RECORDING_HEADER] = str(session.recording_id)
    return headers


class _Lock:
    """One request at a time per upload, across API processes on this host (``flock`` on a lock file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    async def acquire(self, wait: float = LOCK_WAIT_SECONDS) -> None:
        deadline = time.monotonic() + wait
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() > deadline:
                    raise ServiceError(
                        423,
                        "upload_busy",
                        "このアップロードは別の接続で送信中です。しばらくしてから再開してください。",
                        {"Retry-After": "5"},
                    ) from None
                await asyncio.sleep(0.05)
                continue
            try:  # the holder we waited for may have removed the file: then this lock guards nothing
                current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                self.fd = fd
                return
            os.close(fd)

    def release(self, remove: bool = False) -> None:
        if self.fd is None:
            return
        if remove:  # still holding it: a waiter sees the file gone and takes a new one
            self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None


@router.options("", status_code=204, summary="tus: 対応する版・拡張・上限")
def tus_options() -> Response:
    limit = max_size(get_settings())
    return Response(
        status_code=204,
        headers={"Tus-Version": VERSION, "Tus-Extension": ",".join(EXTENSIONS), "Tus-Max-Size": str(limit)},
    )


@router.post("", status_code=201, dependencies=TUS, summary="tus: アップロードを作る (機器)")
def create_upload(request: Request, db: DbSession, device: CurrentDevice) -> Response:
    """``Upload-Length`` and ``Upload-Metadata`` (filename, title, kind, held_at, speakers, recording_id).

    The same ``recording_id`` again: 200 with the same upload, to resume it, or, when it finished,
    with its recording in ``Kiroku-Recording-Id`` (never a second recording).
    """
    assert device.id is not None
    if request.headers.get("upload-defer-length"):
        raise ServiceError(400, "tus_header", "Upload-Defer-Length には対応していません。長さを指定してください。")
    length = number_header(request.headers, "Upload-Length")
    limit = max_size(get_settings())
    if length > limit:
        raise too_large(limit)
    if length == 0:
        raise ServiceError(415, "not_audio", "ファイルが空です。録音ファイルを送ってください。")
    meta = recording_meta(parse_metadata(request.headers.get("upload-metadata", "")))
    upload_id = upload_id_for(device.id, meta.recording_id)
    storage = get_settings().resolved_storage()
    if meta.recording_id is not None:
        found = db.get(UploadSession, upload_id)
        if found is not None:
            return _again(request, found, length, storage)
        recording = _device_recording(db, device.id, meta.recording_id)
        if recording is not None:  # finished before its upload row existed (or the row was removed)
            found = _finished_row(db, upload_id, device, meta.recording_id, recording, length)
            return _again(request, found, length, storage)
    session = UploadSession(
        id=upload_id,
        device_id=device.id,
        department_id=device.department_id,
        length=length,
        meta=meta.stored(),
        device_recording_id=meta.recording_id,
    )
    db.add(session)
    try:
        db.commit()
    except IntegrityError:  # the same POST at the same moment: answer as its repeat
        db.rollback()
        found = db.get(UploadSession, upload_id)
        if found is None:
            raise
        return _again(request, found, length, storage)
    log.info("upload %s created by device %s (%d bytes)", upload_id, device.id, length)
    return Response(
        status_code=201,
        headers={"Location": _location(request, upload_id), "Upload-Offset": "0", "Upload-Length": str(length)},
    )


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


def _again(request: Request, session: UploadSession, length: int, storage: Path) -> Response:
    """A repeated creation: the existing upload, finished or to be resumed."""
    if session.completed_at is None and session.length != length:
        raise ServiceError(
            409,
            "recording_id_in_use",
            "この録音 ID (recording_id) では長さの違うファイルを送信中です。別の録音なら別の ID を使ってください。",
        )
    offset = _offset(session, _part(storage, session.id))
    headers = {"Location": _location(request, session.id), **_state_headers(session, offset)}
    return Response(status_code=200, headers=headers)


@router.head("/{upload_id}", dependencies=TUS, summary="tus: 受け取り済みのバイト数")
def upload_offset(upload_id: str, db: DbSession, device: CurrentDevice) -> Response:
    session = _own_session(db, device, upload_id)
    offset = _offset(session, _part(get_settings().resolved_storage(), upload_id))
    headers = _state_headers(session, offset)
    metadata = {**session.meta, "recording_id": session.device_recording_id or ""}
    headers["Upload-Metadata"] = encode_metadata({k: v for k, v in metadata.items() if v})
    return Response(status_code=200, headers=headers)


@dataclass
class _Received:
    written: int = 0
    interrupted: bool = False  # the client went away, or stopped sending: its bytes so far are kept
    too_much: bool = False


@router.patch("/{upload_id}", status_code=204, dependencies=TUS, summary="tus: バイトを続きに書き込む")
async def upload_bytes(
    upload_id: str,
    request: Request,
    db: DbSession,
    device: CurrentDevice,
    content_type: Annotated[str, Header()] = "",
) -> Response:
    """Body: the bytes from ``Upload-Offset`` on (``application/offset+octet-stream``). 204 with the
    new ``Upload-Offset``; with the last byte also ``Kiroku-Recording-Id``."""
    if content_type.split(";")[0].strip().lower() != OFFSET_CONTENT_TYPE:
        raise ServiceError(415, "content_type", f"Content-Type は {OFFSET_CONTENT_TYPE} にしてください。")
    claimed = number_header(request.headers, "Upload-Offset")
    if not _UPLOAD_ID.match(upload_id):
        raise not_found()
    storage = get_settings().resolved_storage()
    part = _part(storage, upload_id)
    lock = _Lock(uploads_dir(storage) / f"{upload_id}.lock")
    await lock.acquire()
    remove_lock = False
    try:
        session = await run_in_threadpool(_fresh_session, db, device, upload_id)
        offset, length = _offset(session, part), session.length
        state = _state_headers(session, offset)
        if claimed != offset:
            raise ServiceError(
                409,
                "offset_mismatch",
                f"送信位置が違います(受信済み {offset} バイト)。HEAD で確認して再開してください。",
                {"Upload-Offset": str(offset)},
            )
        if session.completed_at is not None:  # the last PATCH again (its answer was lost)
            return Response(status_code=204, headers=state)
        remaining = length - offset
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > remaining:
            raise ServiceError(413, "too_large", f"Upload-Length を超えています(残り {remaining} バイト)。")
        received = await _receive(request, part, remaining)
        if received.too_much:
            await run_in_threadpool(os.truncate, part, offset)
            raise ServiceError(413, "too_large", f"Upload-Length を超えています(残り {remaining} バイト)。")
        offset += received.written
        if received.interrupted or offset < length:
            await run_in_threadpool(_save_offset, db, session, offset)
            if received.interrupted:
                log.info("upload %s interrupted at %d of %d bytes", upload_id, offset, length)
            return Response(status_code=204, headers={**state, "Upload-Offset": str(offset)})
        try:
            recording_id = await run_in_threadpool(_complete, db, device, upload_id, part, storage, request)
        except ServiceError as error:
            if error.status in (413, 415):
                remove_lock = True  # the upload is gone: refused
            raise
        remove_lock = True
        done = {"Upload-Offset": str(offset), "Upload-Length": str(offset), RECORDING_HEADER: str(recording_id)}
        return Response(status_code=204, headers={**done, "Cache-Control": "no-store"})
    finally:
        lock.release(remove=remove_lock)


def _fresh_session(db: Session, device: Device, upload_id: str) -> UploadSession:
    """Read again once this request has its turn: the one before may have finished or removed it."""
    db.expire_all()
    return _own_session(db, device, upload_id)


async def _receive(request: Request, part: Path, remaining: int) -> _Received:
    """Append the body to the file in 1 MB writes (never the whole body in memory), then fsync."""
    received = _Received()
    buffer = bytearray()
    stream = request.stream().__aiter__()
    with await run_in_threadpool(part.open, "ab") as out:
        while True:
            try:
                async with asyncio.timeout(IDLE_SECONDS):
                    chunk = await anext(stream)
            except StopAsyncIteration:
                break
            except (ClientDisconnect, TimeoutError):
                received.interrupted = True
                break
            if received.written + len(buffer) + len(chunk) > remaining:
                received.too_much = True
                break
            buffer += chunk
            if len(buffer) >= CHUNK:
                await run_in_threadpool(out.write, buffer)
                received.written += len(buffer)
                buffer.clear()
        if buffer and not received.too_much:
            await run_in_threadpool(out.write, buffer)
            received.written += len(buffer)
        await run_in_threadpool(_sync, out)
    return received


def _sync(out: Any) -> None:
    out.flush()
    os.fsync(out.fileno())


def _save_offset(db: Session, session: UploadSession, offset: int) -> None:
    session.offset = offset
    db.add(session)
    db.commit()


def _complete(db: Session, device: Device, upload_id: str, part: Path, storage: Path, request: Request) -> int:
    """All bytes are in: probe, then store the recording and queue its job (once per device recording)."""
    settings = get_settings()
    session = _own_session(db, device, upload_id)
    existing = _device_recording(db, device.id, session.device_recording_id)
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
    meta = stored_meta(session.meta)
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
            max_attempts=settings.max_attempts,
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
        existing = _device_recording(db, device.id, session.device_recording_id)
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
    audit(
        db,
        "recording.upload",
        device=device,
        recording_id=recording_id,
        detail=f"tus {upload_id}",
        ip=client_ip(request),
    )
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


@router.delete("/{upload_id}", status_code=204, dependencies=TUS, summary="tus: 送信途中のアップロードを取り消す")
async def terminate_upload(upload_id: str, db: DbSession, device: CurrentDevice) -> Response:
    if not _UPLOAD_ID.match(upload_id):
        raise not_found()
    storage = get_settings().resolved_storage()
    lock = _Lock(uploads_dir(storage) / f"{upload_id}.lock")
    await lock.acquire()
    removed = False
    try:
        session = await run_in_threadpool(_fresh_session, db, device, upload_id)
        if session.completed_at is not None:
            message = "送信済みの録音は取り消せません。録音の削除は画面から行ってください。"
            raise ServiceError(409, "upload_finished", message)
        await run_in_threadpool(_remove, db, session, _part(storage, upload_id))
        removed = True
    finally:
        lock.release(remove=removed)
    return Response(status_code=204)


def _remove(db: Session, session: UploadSession, part: Path) -> None:
    part.unlink(missing_ok=True)  # the bytes first: a file never outlives its row
    db.delete(session)
    db.commit()


@router.get("/recordings/{device_recording_id}", summary="機器の録音がサーバーにあるかの確認")
def device_recording_status(device_recording_id: str, db: DbSession, device: CurrentDevice) -> dict[str, Any]:
    """The recording this device uploaded under its own id, with its job's status."""
    recording = _device_recording(db, device.id, device_recording_id)
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

"""Resumable uploads from meeting-room devices: tus 1.0 (core protocol, creation and termination).

A device creates an upload (``POST``), sends its bytes in one or more ``PATCH`` requests and, after a
dropped connection or a restart of the API, asks where to go on (``HEAD``). What becomes of the
bytes (one recording per device recording, never doubled) is ``service.uploads``; here is the
protocol: its headers, the body streamed to disk, and requests on one upload taking turns.

Nothing is lost or doubled:

- The device names each recording (``recording_id`` in ``Upload-Metadata``): a repeated ``POST``
  finds the same upload: still in progress → the client resumes it; finished → the same recording.
- ``PATCH`` requests of one upload take turns (a lock file), and each checks ``Upload-Offset``
  against the bytes on disk after it has its turn; a late or doubled request gets 409.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from api.auth import CurrentDevice, DbSession, client_ip
from api.schemas.uploads import DeviceRecordingOut
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
from service import uploads
from service.errors import ServiceError
from service.models import UploadSession
from service.settings import get_settings
from service.storage import CHUNK, private_file, too_large

log = logging.getLogger(__name__)

PREFIX = "/api/v1/uploads"
RECORDING_HEADER = "Kiroku-Recording-Id"
# A PATCH whose body stops arriving for this long ends (its bytes are kept) and frees the upload.
IDLE_SECONDS = 30.0
# How long a PATCH waits for another request on the same upload to finish before answering 423.
LOCK_WAIT_SECONDS = 10.0
NO_BODY: dict[str, Any] = {"content": {}}  # tus answers are headers only


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


@router.options(
    "", status_code=204, summary="tus: 対応する版・拡張・上限", response_class=Response, responses={204: NO_BODY}
)
def tus_options() -> Response:
    limit = max_size(get_settings())
    return Response(
        status_code=204,
        headers={"Tus-Version": VERSION, "Tus-Extension": ",".join(EXTENSIONS), "Tus-Max-Size": str(limit)},
    )


@router.post(
    "",
    status_code=201,
    dependencies=TUS,
    summary="tus: アップロードを作る (機器)",
    response_class=Response,
    responses={
        201: {"description": "作成しました (Location)", **NO_BODY},
        200: {"description": "同じ録音 ID のアップロード: 再開するか、完了済みなら Kiroku-Recording-Id", **NO_BODY},
    },
)
def create_upload(request: Request, db: DbSession, device: CurrentDevice) -> Response:
    """``Upload-Length`` and ``Upload-Metadata`` (filename, title, kind, held_at, speakers, recording_id).

    The same ``recording_id`` again: 200 with the same upload, to resume it, or, when it finished,
    with its recording in ``Kiroku-Recording-Id`` (never a second recording).
    """
    if request.headers.get("upload-defer-length"):
        raise ServiceError(400, "tus_header", "Upload-Defer-Length には対応していません。長さを指定してください。")
    length = number_header(request.headers, "Upload-Length")
    limit = max_size(get_settings())
    if length > limit:
        raise too_large(limit)
    if length == 0:
        raise ServiceError(415, "not_audio", "ファイルが空です。録音ファイルを送ってください。")
    meta = recording_meta(parse_metadata(request.headers.get("upload-metadata", "")))
    session, created = uploads.open_upload(
        db, device, length=length, meta=meta.stored(), recording_id=meta.recording_id
    )
    if created:
        headers = {"Location": _location(request, session.id), "Upload-Offset": "0", "Upload-Length": str(length)}
        return Response(status_code=201, headers=headers)
    offset = uploads.received(session, uploads.part_path(get_settings().resolved_storage(), session.id))
    return Response(
        status_code=200, headers={"Location": _location(request, session.id), **_state_headers(session, offset)}
    )


@router.head(
    "/{upload_id}",
    dependencies=TUS,
    summary="tus: 受け取り済みのバイト数",
    response_class=Response,
    responses={200: {"description": "Upload-Offset と Upload-Length (完了済みなら Kiroku-Recording-Id)", **NO_BODY}},
)
def upload_offset(upload_id: str, db: DbSession, device: CurrentDevice) -> Response:
    session = uploads.own_upload(db, device, upload_id)
    offset = uploads.received(session, uploads.part_path(get_settings().resolved_storage(), upload_id))
    headers = _state_headers(session, offset)
    metadata = {**session.meta, "recording_id": session.device_recording_id or ""}
    headers["Upload-Metadata"] = encode_metadata({k: v for k, v in metadata.items() if v})
    return Response(status_code=200, headers=headers)


@dataclass
class _Received:
    written: int = 0
    interrupted: bool = False  # the client went away, or stopped sending: its bytes so far are kept
    too_much: bool = False


@router.patch(
    "/{upload_id}",
    status_code=204,
    dependencies=TUS,
    summary="tus: バイトを続きに書き込む",
    responses={204: {"description": "新しい Upload-Offset (最後のバイトで Kiroku-Recording-Id も)"}},
)
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
    # Not this device's upload: answered before a lock file is made for it.
    await run_in_threadpool(uploads.own_upload, db, device, upload_id)
    storage = get_settings().resolved_storage()
    part = uploads.part_path(storage, upload_id)
    lock = _Lock(uploads.lock_path(storage, upload_id))
    await lock.acquire()
    remove_lock = False
    try:
        try:
            session = await run_in_threadpool(uploads.fresh_upload, db, device, upload_id)
        except ServiceError as error:
            remove_lock = error.status == 404  # removed while we waited: its lock goes too
            raise
        offset, length = uploads.received(session, part), session.length
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
            await run_in_threadpool(uploads.save_offset, db, session, offset)
            if received.interrupted:
                log.info("upload %s interrupted at %d of %d bytes", upload_id, offset, length)
            return Response(status_code=204, headers={**state, "Upload-Offset": str(offset)})
        meta = stored_meta(session.meta)
        try:
            recording_id = await run_in_threadpool(
                uploads.finish_upload, db, device, upload_id, part, storage, meta, ip=client_ip(request)
            )
        except ServiceError as error:
            if error.status in (413, 415):
                remove_lock = True  # the upload is gone: refused
            raise
        remove_lock = True
        done = {"Upload-Offset": str(offset), "Upload-Length": str(offset), RECORDING_HEADER: str(recording_id)}
        return Response(status_code=204, headers={**done, "Cache-Control": "no-store"})
    finally:
        lock.release(remove=remove_lock)


async def _receive(request: Request, part: Path, remaining: int) -> _Received:
    """Append the body to the file in 1 MB writes (never the whole body in memory), then fsync."""
    received = _Received()
    buffer = bytearray()
    stream = request.stream().__aiter__()
    await run_in_threadpool(private_file, part)  # 0600 before a byte of the recording is in it
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


@router.delete("/{upload_id}", status_code=204, dependencies=TUS, summary="tus: 送信途中のアップロードを取り消す")
async def terminate_upload(upload_id: str, db: DbSession, device: CurrentDevice) -> Response:
    await run_in_threadpool(uploads.own_upload, db, device, upload_id)  # 404 before any lock file
    storage = get_settings().resolved_storage()
    lock = _Lock(uploads.lock_path(storage, upload_id))
    await lock.acquire()
    removed = False
    try:
        await run_in_threadpool(uploads.remove_upload, db, device, upload_id, uploads.part_path(storage, upload_id))
        removed = True
    except ServiceError as error:
        removed = error.status == 404  # removed while we waited: its lock goes too
        raise
    finally:
        lock.release(remove=removed)
    return Response(status_code=204)


@router.get("/recordings/{device_recording_id}", summary="機器の録音がサーバーにあるかの確認")
def device_recording_status(device_recording_id: str, db: DbSession, device: CurrentDevice) -> DeviceRecordingOut:
    """The recording this device uploaded under its own id, with its job's status."""
    return DeviceRecordingOut.model_validate(uploads.device_recording_status(db, device, device_recording_id))

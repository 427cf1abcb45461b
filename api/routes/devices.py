"""Meeting-room devices reporting themselves: the watching agent's heartbeat (device key only).

Under the device API's prefix (``/api/v1/uploads``, next to the uploads and their confirmation): what
a device key may reach is one prefix, checked as one (``api.auth.current_device``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from api.auth import CurrentDevice, DbSession
from api.schemas.devices import HeartbeatIn, HeartbeatOut
from service.device_health import Heartbeat, record_heartbeat
from service.errors import ServiceError

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads (devices)"])
MAX_BODY = 4096  # a heartbeat is a few dozen bytes

_SCHEMA = {"application/json": {"schema": HeartbeatIn.model_json_schema()}}
_BODY = {"requestBody": {"required": True, "content": _SCHEMA}}  # shown in /docs; read by hand below


@router.post(
    "/heartbeat",
    response_model=HeartbeatOut,
    summary="機器エージェントの死活通知 (最終接続・版・未送信数・空き容量)",
    openapi_extra=_BODY,
)
async def heartbeat(request: Request, db: DbSession, device: CurrentDevice) -> HeartbeatOut:
    """The body is read only after the device key was accepted (``CurrentDevice``), and at most 4 KB."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ServiceError(413, "too_large", "死活通知が大きすぎます。")
    try:
        body = HeartbeatIn.model_validate_json(bytes(raw))
    except ValidationError as error:
        fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()}))
        raise ServiceError(422, "invalid", f"入力内容に誤りがあります。({fields})") from None
    beat = Heartbeat(body.agent_version, body.queue_length, body.free_disk_bytes)
    stored = await run_in_threadpool(record_heartbeat, db, device, beat)
    assert stored.id is not None and stored.heartbeat_at is not None
    return HeartbeatOut(device_id=stored.id, name=stored.name, heartbeat_at=stored.heartbeat_at)

"""Meeting-room devices reporting themselves: the watching agent's heartbeat, and the alert raised to
admins when a device that used to beat falls silent (powered off, unplugged, its agent stopped).

A device that never sent a heartbeat (one that uploads now and then by ``kiroku device push``) is not
expected to keep in touch and is never alerted about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.access import audit
from service.mail import send_mail
from service.models import Device, Role, User, utcnow
from service.settings import ServiceSettings

log = logging.getLogger(__name__)

MAX_AGENT_VERSION = 50  # Device.agent_version


@dataclass(frozen=True)
class Heartbeat:
    """What the agent says about itself (checked by the API's request model)."""

    agent_version: str
    queue_length: int
    free_disk_bytes: int | None


def record_heartbeat(db: Session, device: Device, beat: Heartbeat) -> Device:
    """Keep the device's latest report; a silence it ends is over (its next one alerts again)."""
    now = utcnow()
    device.heartbeat_at = now
    device.last_seen_at = now
    device.agent_version = beat.agent_version[:MAX_AGENT_VERSION]
    device.queue_length = beat.queue_length
    device.free_disk_bytes = beat.free_disk_bytes
    device.silence_alerted_at = None
    db.add(device)
    db.commit()
    db.refresh(device)
    return device


def alert_silent_devices(engine: Engine, settings: ServiceSettings, now: datetime | None = None) -> list[int]:
    """Alert admins, once per silence, about every active device whose agent has not beaten for
    ``settings.device_silent_hours``: a warning in the log, an audit event (the admin console's log)
    and an e-mail to the admins who have an address, where SMTP is set up. Safe in several processes
    at once: only the process whose conditional UPDATE marks the device raises its alert."""
    cutoff = (now or utcnow()) - timedelta(hours=settings.device_silent_hours)
    with Session(engine) as db:
        silent = db.exec(
            select(Device).where(
                col(Device.active),
                col(Device.heartbeat_at) < cutoff,
                col(Device.silence_alerted_at).is_(None),
            )
        ).all()
    alerted: list[int] = []
    for device in silent:
        assert device.id is not None
        with engine.begin() as conn:
            marked = conn.execute(
                update(Device)
                .where(
                    col(Device.id) == device.id,
                    col(Device.heartbeat_at) == device.heartbeat_at,  # no heartbeat arrived meanwhile
                    col(Device.silence_alerted_at).is_(None),
                )
                .values(silence_alerted_at=utcnow())
            ).rowcount
        if not marked:
            continue
        alerted.append(device.id)
        log.warning("device %s has sent no heartbeat since %s", device.id, device.heartbeat_at)
        with Session(engine) as db:
            audit(db, "device.silent", device=device, detail=f"device {device.id} silent since {device.heartbeat_at}")
            _mail_admins(db, device, settings)
    return alerted


def _mail_admins(db: Session, device: Device, settings: ServiceSettings) -> None:
    if not settings.smtp_host:
        return
    admins = db.exec(select(User).where(User.role == Role.admin, col(User.active), User.email != "")).all()
    since = device.heartbeat_at.astimezone().strftime("%Y-%m-%d %H:%M") if device.heartbeat_at else "-"
    send_mail(
        settings,
        [a.email for a in admins],
        f"[kiroku] 会議室の機器「{device.name}」から連絡がありません",
        f"会議室の機器「{device.name}」(ID {device.id}) の送信エージェントから、{since} 以降"
        f" {settings.device_silent_hours:g} 時間以上連絡がありません。\n"
        "機器の電源・ネットワーク・kiroku device watch のサービスを確認してください。\n"
        "管理画面の機器一覧で最終接続日時と未送信の件数を確認できます。\n",
        f"the silent-device alert for device {device.id}",
    )

"""Words the service and its clients share: roles and kinds of recording.

Plain enums with no database behind them, so the light install (``kiroku[device]``: the command line
and the meeting-room agent, without SQLModel) can name them too. ``service.models`` re-exports them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    clerk = "clerk"
    manager = "manager"
    admin = "admin"


class Kind(StrEnum):
    meeting = "meeting"
    interview = "interview"
    negotiation = "negotiation"
    phone = "phone"


# How pages, file names and the dashboard name a kind.
KIND_LABELS = {"meeting": "会議", "interview": "面談", "negotiation": "交渉", "phone": "電話"}

"""How records write dates: 2026年4月15日(水) 10:00 in Tokyo time, and the date of a file name."""

from __future__ import annotations

from datetime import UTC, datetime

from service.clock import TOKYO

_WEEKDAYS = "月火水木金土日"


def tokyo(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO) if moment.tzinfo else moment.replace(tzinfo=UTC).astimezone(TOKYO)


def japanese_datetime(moment: datetime) -> str:
    """How minutes write a date and time, in Tokyo time: 2026年4月15日(水) 10:00 (as the editor does)."""
    local = tokyo(moment)
    return f"{local.year}年{local.month}月{local.day}日({_WEEKDAYS[local.weekday()]}) {local:%H:%M}"

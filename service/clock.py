"""The service's one time zone: recordings, minutes and the usage ledger are dated in Japan time."""

from __future__ import annotations

from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")

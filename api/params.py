"""Query parameter types that refuse what a calendar or a database column cannot hold (422, not 500)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

# Years any stored moment can have; beyond them a time zone shift leaves the calendar (0001-01-01+14:00).
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _in_calendar(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"日時は {FIRST_YEAR}〜{LAST_YEAR} 年の範囲で指定してください")
    return value


Moment = Annotated[datetime, AfterValidator(_in_calendar)]

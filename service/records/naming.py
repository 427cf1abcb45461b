"""File names of exported records: ``{日付}_{件名}_{会議録}.docx``, safe on Windows.

Windows refuses ``\\ / : * ? " < > |``, control characters and names ending in a dot or a space;
those characters become ``_``, and the title is cut so the whole name stays well under 255 characters.
"""

from __future__ import annotations

import re
from datetime import datetime

from service.records.dates import tokyo
from service.records.fields import RECORD_TITLES

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]')
MAX_TITLE = 60


def safe_part(text: str, limit: int = MAX_TITLE) -> str:
    cleaned = _FORBIDDEN.sub("_", " ".join(text.split()))[:limit]
    return cleaned.strip(" .")


def record_filename(
    kind: str, title: str, moment: datetime | None, extension: str, *, publication: bool = False
) -> str:
    """20260415_予算説明会_会議録.docx (公開用: …_会議録_公開用.docx); a missing date or title is left out."""
    parts = []
    if moment is not None:
        parts.append(f"{tokyo(moment):%Y%m%d}")
    title_part = safe_part(title)
    if title_part:
        parts.append(title_part)
    parts.append(RECORD_TITLES.get(kind, "記録"))
    if publication:
        parts.append("公開用")
    return "_".join(parts) + f".{extension}"

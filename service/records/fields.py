"""The header fields of each kind of record: stable keys for the API, Japanese labels for people.

A field entered at upload is stored on the recording (``Recording.fields``) and becomes part of the
minutes' header; the editor shows, and the export writes, every field of the kind plus any other
field that holds a value (so nothing entered is ever dropped because the kind does not list it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from service.models import Recording
from service.records.dates import japanese_datetime


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    long: bool = False  # several lines (a textarea; a taller cell)
    hint: str = ""


_TITLE = Field("title", "件名")
FIELDS: dict[str, list[Field]] = {
    "meeting": [
        Field("title", "会議名"),
        Field("held_at", "日時", hint="開会の日時"),
        Field("closed_at", "閉会", hint="例: 11:30"),
        Field("place", "場所"),
        Field("attendees", "出席者", long=True),
        Field("absentees", "欠席者", long=True),
        Field("agenda", "議題", long=True),
        Field("recorder", "記録者"),
    ],
    "interview": [
        _TITLE,
        Field("held_at", "面談日時"),
        Field("place", "場所"),
        Field("staff", "対応者"),
        Field("counterpart", "相手方", hint="氏名は公開用では伏せます"),
        Field("purpose", "目的", long=True),
        Field("content", "内容", long=True),
        Field("follow_up", "今後の対応", long=True),
    ],
    "negotiation": [
        _TITLE,
        Field("held_at", "日時"),
        Field("place", "場所"),
        Field("company", "相手方(事業者名)"),
        Field("attendees", "出席者(市側)", long=True),
        Field("counterpart", "出席者(相手方)", long=True),
        Field("progress", "経過", long=True),
        Field("outcome", "合意事項・継続事項", long=True),
    ],
    "phone": [
        _TITLE,
        Field("held_at", "受付日時"),
        Field("staff", "受付者"),
        Field("counterpart", "相手方"),
        Field("subject", "用件", long=True),
        Field("response", "対応内容", long=True),
        Field("handover", "引継ぎ", long=True),
    ],
}

# Labels of keys a kind does not list (an API upload's place for a phone call, an older minutes' keys).
OTHER_LABELS = {
    "title": "件名",
    "held_at": "日時",
    "closed_at": "閉会",
    "place": "場所",
    "attendees": "出席者",
    "absentees": "欠席者",
    "agenda": "議題",
    "recorder": "記録者",
    "staff": "対応者",
    "counterpart": "相手方",
    "company": "相手方(事業者名)",
    "purpose": "目的",
    "content": "内容",
    "follow_up": "今後の対応",
    "progress": "経過",
    "outcome": "合意事項・継続事項",
    "subject": "用件",
    "response": "対応内容",
    "handover": "引継ぎ",
}
KNOWN_KEYS = frozenset(OTHER_LABELS)
MAX_FIELD = 2000


def kind_fields(kind: str) -> list[Field]:
    return FIELDS.get(kind, FIELDS["meeting"])


def header_fields(kind: str) -> list[tuple[str, str]]:
    """(key, label) of the kind's fields, in the record's order."""
    return [(f.key, f.label) for f in kind_fields(kind)]


def shown_fields(kind: str, header: dict[str, Any]) -> list[Field]:
    """The kind's fields, then any other field of ``header`` that holds text."""
    fields = list(kind_fields(kind))
    listed = {f.key for f in fields}
    for key, value in header.items():
        if key not in listed and isinstance(value, str) and value.strip():
            fields.append(Field(key, OTHER_LABELS.get(key, key), long=len(value) > 40))
    return fields


def field_by_name(kind: str, name: str) -> str | None:
    """The key a command line's ``--field`` names, by key or by label (会議名, 受付者 …)."""
    name = name.strip()
    for field in kind_fields(kind):
        if name in (field.key, field.label):
            return field.key
    if name in KNOWN_KEYS:
        return name
    for key, label in OTHER_LABELS.items():
        if name == label:
            return key
    return None


def recording_time(recording: Recording) -> str:
    """受付日時 and the like, when nobody entered one: the recording's own time (held, else uploaded)."""
    moment = recording.held_at or recording.created_at
    return japanese_datetime(moment) if moment else ""


def closing_time(recording: Recording) -> str:
    """閉会: the start plus the recording's length, when the start is known."""
    if recording.held_at is None or not recording.duration_seconds:
        return ""
    end = japanese_datetime(recording.held_at + timedelta(seconds=recording.duration_seconds))
    return end.rsplit(" ", 1)[-1]


def initial_fields(recording: Recording) -> dict[str, str]:
    """The header of minutes nobody has saved yet, from what was entered at upload."""
    header: dict[str, str] = {
        "title": recording.title,
        "held_at": japanese_datetime(recording.held_at) if recording.held_at else "",
        "place": recording.place,
        "attendees": recording.attendees,
    }
    if recording.kind == "phone" and not header["held_at"]:
        header["held_at"] = recording_time(recording)
    if recording.kind == "meeting":
        header["closed_at"] = closing_time(recording)
    for key, value in (recording.fields or {}).items():
        if isinstance(value, str) and (value or key not in header):
            header[key] = value
    return header


# What each kind of record is called (the document's title, the file name's end).
RECORD_TITLES = {"meeting": "会議録", "interview": "面談記録", "negotiation": "交渉記録", "phone": "電話対応記録"}


def upload_specs() -> dict[str, list[dict[str, Any]]]:
    """Per kind, the fields the upload page asks for besides the title and the date (which it has)."""
    return {
        kind: [
            {"key": f.key, "label": f.label, "long": f.long, "hint": f.hint}
            for f in fields
            if f.key not in ("title", "held_at", "closed_at")
        ]
        for kind, fields in FIELDS.items()
    }

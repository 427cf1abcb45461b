"""tus 1.0 (resumable uploads) header handling: versions, lengths and offsets, ``Upload-Metadata``.

Only parsing and checks live here; the upload resource itself is ``api.routes.uploads``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from service.clock import TOKYO
from service.errors import ServiceError
from service.minutes import unsafe_character
from service.models import Kind
from service.settings import ServiceSettings
from service.storage import original_name

VERSION = "1.0.0"
EXTENSIONS = ("creation", "termination")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"

# Upload-Metadata: at most this many pairs, and this many characters in all (it is one header).
MAX_METADATA_PAIRS, MAX_METADATA_CHARS = 32, 16 * 1024
MAX_RECORDING_ID = 200  # UploadSession/Recording.device_recording_id
_KEY = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")  # an HTTP token: no spaces, no commas
_NUMBER = re.compile(r"^[0-9]{1,19}$")


def max_size(settings: ServiceSettings) -> int:
    """``Tus-Max-Size``: the service's upload limit, the same as for a multipart upload (the size
    columns are 64-bit since migration 0004; they used to cap tus at 2 GiB − 1)."""
    return settings.max_upload_bytes


def tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": VERSION, **extra}


def check_version(request: Request) -> None:
    """Every tus request but OPTIONS names the protocol version; an unknown one is not processed (412)."""
    if request.method == "OPTIONS":
        return
    version = request.headers.get("tus-resumable")
    if version != VERSION:
        raise ServiceError(
            412,
            "tus_version",
            f"tus のバージョン {version or '(なし)'} には対応していません(対応: {VERSION})。",
            tus_headers(**{"Tus-Version": VERSION}),
        )


def number_header(headers: Mapping[str, str], name: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset); a missing or malformed one is 400."""
    value = headers.get(name, "").strip()
    if not _NUMBER.match(value):
        raise ServiceError(400, "tus_header", f"{name} ヘッダーが正しくありません(0 以上の整数)。", tus_headers())
    return int(value)


def parse_metadata(header: str) -> dict[str, str]:
    """``key base64value, key2 base64value2, key3`` → a dict of UTF-8 strings (a key alone means "")."""
    if len(header) > MAX_METADATA_CHARS:
        raise _bad_metadata("長すぎます")
    pairs: dict[str, str] = {}
    if not header.strip():
        return pairs
    items = header.split(",")
    if len(items) > MAX_METADATA_PAIRS:
        raise _bad_metadata("項目が多すぎます")
    for item in items:
        parts = item.strip().split(" ")
        if len(parts) > 2 or not _KEY.match(parts[0]):
            raise _bad_metadata("形式が違います")
        key = parts[0]
        if key in pairs:
            raise _bad_metadata(f"{key} が重複しています")
        raw = parts[1] if len(parts) == 2 else ""
        try:
            pairs[key] = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _bad_metadata(f"{key} の値が base64 の UTF-8 ではありません") from None
    return pairs


def encode_metadata(values: Mapping[str, str]) -> str:
    """The other direction, for clients (and tests)."""
    return ",".join(f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}" for key, value in values.items())


def _bad_metadata(why: str) -> ServiceError:
    return ServiceError(400, "tus_metadata", f"Upload-Metadata ヘッダーが正しくありません({why})。", tus_headers())


@dataclass(frozen=True)
class RecordingMeta:
    """What a device says about the recording it uploads (the multipart upload's form fields)."""

    filename: str
    title: str
    kind: Kind
    held_at: datetime | None
    speakers: int | None
    recording_id: str | None  # the device's own id for the recording: the idempotency key

    def stored(self) -> dict[str, str]:
        """As kept in ``UploadSession.meta`` until the upload completes."""
        return {
            "filename": self.filename,
            "title": self.title,
            "kind": self.kind.value,
            "held_at": self.held_at.isoformat() if self.held_at else "",
            "speakers": str(self.speakers) if self.speakers else "",
        }


def recording_meta(pairs: Mapping[str, str]) -> RecordingMeta:
    """Checked like the multipart upload's fields; problems are 422 with the field named."""
    kind_text = pairs.get("kind") or Kind.meeting.value
    try:
        kind = Kind(kind_text)
    except ValueError:
        raise _invalid("種類 (kind) は meeting, interview, negotiation, phone のいずれかです") from None
    title = pairs.get("title", "")
    if len(title) > 300:
        raise _invalid("タイトルが長すぎます(300 文字まで)")
    for label, value in (("タイトル", title), ("ファイル名", pairs.get("filename", ""))):
        code = unsafe_character(value)
        if code is not None:
            raise _invalid(f"{label}に使えない文字 ({code}) が含まれています")
    speakers: int | None = None
    if pairs.get("speakers"):
        text = pairs["speakers"].strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 20:
            raise _invalid("話者数 (speakers) は 1〜20 の整数です")
        speakers = int(text)
    held_at = _held_at(pairs.get("held_at", ""))
    recording_id = pairs.get("recording_id", "").strip() or None
    if recording_id is not None and (
        len(recording_id) > MAX_RECORDING_ID or not recording_id.isprintable() or unsafe_character(recording_id)
    ):
        raise _invalid(f"録音 ID (recording_id) は {MAX_RECORDING_ID} 文字までの印字可能な文字列です")
    return RecordingMeta(
        filename=original_name(pairs.get("filename") or pairs.get("name") or "recording"),
        title=title,
        kind=kind,
        held_at=held_at,
        speakers=speakers,
        recording_id=recording_id,
    )


def stored_meta(meta: Mapping[str, str]) -> RecordingMeta:
    """``RecordingMeta.stored`` read back (it was checked when the upload was created)."""
    return RecordingMeta(
        filename=meta.get("filename") or "recording",
        title=meta.get("title", ""),
        kind=Kind(meta.get("kind") or Kind.meeting.value),
        held_at=datetime.fromisoformat(meta["held_at"]) if meta.get("held_at") else None,
        speakers=int(meta["speakers"]) if meta.get("speakers") else None,
        recording_id=None,
    )


def _held_at(text: str) -> datetime | None:
    """ISO 8601; a time without a zone is Japan time (as for the multipart upload)."""
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _invalid("日時 (held_at) は ISO 8601 形式で指定してください") from None
    if value.utcoffset() is None:
        value = value.replace(tzinfo=TOKYO)
    if not 1900 <= value.year <= 2200:
        raise _invalid("日時 (held_at) が正しくありません")
    return value


def _invalid(why: str) -> ServiceError:
    return ServiceError(422, "invalid", f"入力内容に誤りがあります。{why}。", tus_headers())

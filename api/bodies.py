"""Request bodies read strictly, where FastAPI's own parsing would answer in English or with a 500."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request

from service.errors import ServiceError
from service.minutes import MAX_MINUTES_BYTES


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


async def minutes_json(request: Request) -> dict[str, Any]:
    """The body of a minutes save, read strictly (a FastAPI dependency).

    Standard JSON only: no NaN or Infinity, no number beyond a float's range, at most 64 MB, and no
    deeper than the parser copes with. Anything else is refused with a Japanese message (422, or
    413 when too large), never a 500 or FastAPI's English 400.
    """
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_MINUTES_BYTES:
            raise ServiceError(413, "too_large", f"議事録が大きすぎます(上限 {MAX_MINUTES_BYTES // 1024**2} MB)。")
    try:
        body = json.loads(bytes(raw), parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError) as error:  # bad UTF-8 and bad JSON are ValueErrors too
        raise ServiceError(422, "invalid_minutes", "議事録の形式が正しくありません: JSON として読めません。") from error
    if not isinstance(body, dict):
        raise ServiceError(
            422, "invalid_minutes", "議事録の形式が正しくありません: JSON のオブジェクトではありません。"
        )
    return body

"""The JSON answer for a :class:`service.errors.ServiceError`: ``{"detail": 日本語, "code": …}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from service.errors import ServiceError


async def handle_service_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    return JSONResponse({"detail": error.message, "code": error.code}, status_code=error.status, headers=error.headers)

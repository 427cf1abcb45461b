"""Errors users see: a Japanese message and a stable machine code, with the right HTTP status."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def not_found() -> ApiError:
    # The same answer for "does not exist" and "not yours": ids cannot be probed.
    return ApiError(404, "not_found", "見つかりません。")


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "この操作を行う権限がありません。")


def unauthenticated() -> ApiError:
    return ApiError(401, "unauthenticated", "ログインしてください。", {"WWW-Authenticate": "Bearer"})


async def handle_api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse({"detail": error.message, "code": error.code}, status_code=error.status, headers=error.headers)

"""Errors users see: a Japanese message, a stable machine code and the HTTP status it answers with.

Raised by the domain and the routes alike; ``api.errors`` turns one into a JSON answer.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def not_found() -> ServiceError:
    # The same answer for "does not exist" and "not yours": ids cannot be probed.
    return ServiceError(404, "not_found", "見つかりません。")


def forbidden() -> ServiceError:
    return ServiceError(403, "forbidden", "この操作を行う権限がありません。")


def unauthenticated() -> ServiceError:
    return ServiceError(401, "unauthenticated", "ログインしてください。", {"WWW-Authenticate": "Bearer"})

"""Secrets: argon2 password hashes, random tokens stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.errors import ServiceError

_hasher = PasswordHasher()


class HashGate:
    """At most ``size`` password hashes at once: each takes 64 MiB (argon2's memory cost), so a burst
    of logins could otherwise take the server's memory. Others wait up to ``wait`` seconds, then are
    told to come back (503 with Retry-After)."""

    def __init__(self, size: int = 2, wait: float = 5.0) -> None:
        self.size, self.wait = size, wait
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()

    def configure(self, size: int, wait: float) -> None:
        """The entry point's settings (a new size applies to hashes that start afterwards)."""
        with self._lock:
            if size != self.size:
                self.size, self._slots = size, threading.BoundedSemaphore(size)
            self.wait = wait

    @contextmanager
    def turn(self) -> Iterator[None]:
        slots = self._slots  # released on the one acquired, even if resized meanwhile
        if not slots.acquire(timeout=self.wait):
            raise ServiceError(
                503, "busy", "ログインが混み合っています。少し待ってから再度お試しください。", {"Retry-After": "2"}
            )
        try:
            yield
        finally:
            slots.release()


PASSWORDS = HashGate()

# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("kiroku-timing-equaliser")


def hash_password(password: str) -> str:
    with PASSWORDS.turn():
        return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    with PASSWORDS.turn():
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_password() -> str:
    # Readable: no 0/O or 1/l confusion when it is printed for a first administrator.
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))

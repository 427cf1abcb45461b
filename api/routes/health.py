"""Liveness, readiness (database and broker reachable) and Prometheus metrics.

``/healthz`` answers anyone (it says nothing). Who may read ``/readyz`` and ``/metrics`` is the
``monitoring`` setting: ``local`` (default: requests from this host, as a container's health check
or a Prometheus beside the service, and signed-in administrators), ``anyone`` (a closed network or
a proxy that restricts them), or ``admins`` (an administrator's session or API token only).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import text
from sqlmodel import Session

from api.auth import client_ip, current_caller
from api.schemas.health import Alive, Readiness
from service.db import get_engine
from service.errors import ServiceError
from service.jobs import job_counts
from service.models import Role, utcnow
from service.queue import get_celery
from service.settings import get_settings
from service.usage import month_seconds, tokyo_month

router = APIRouter(tags=["health"])

# Requests served, by method and status class; filled by the app's middleware.
REQUESTS: Counter[tuple[str, str]] = Counter()


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def may_monitor(request: Request) -> None:
    """The ``monitoring`` setting's rule (a dependency): refused callers get 401/403, never the data."""
    rule = get_settings().monitoring
    if rule == "anyone" or (rule == "local" and _loopback(client_ip(request))):
        return
    with Session(get_engine()) as db:
        caller = current_caller(request, db)
    if caller.role != Role.admin:
        raise ServiceError(403, "forbidden", "監視用の情報は管理者だけが見られます。")


Monitor = Annotated[None, Depends(may_monitor)]


@router.get("/healthz", summary="生存確認")
def healthz() -> Alive:
    return Alive(status="ok")


@router.get(
    "/readyz",
    summary="準備完了確認 (データベースとキュー)",
    responses={503: {"model": Readiness, "description": "どちらかに接続できません"}},
)
def readyz(response: Response, _allowed: Monitor) -> Readiness:
    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = type(error).__name__
    try:
        with get_celery().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as error:
        checks["broker"] = type(error).__name__
    ready = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(status="ok" if ready else "unavailable", **checks)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {}}}},
)
def metrics(_allowed: Monitor) -> Response:
    lines = [
        "# HELP kiroku_jobs Jobs by status.",
        "# TYPE kiroku_jobs gauge",
    ]
    with Session(get_engine()) as db:
        counts = job_counts(db)
        seconds = month_seconds(db, tokyo_month(utcnow()))
    for status, count in counts.items():
        lines.append(f'kiroku_jobs{{status="{status}"}} {count}')
    lines += [
        "# HELP kiroku_usage_hours_month Audio hours transcribed this month (Asia/Tokyo).",
        "# TYPE kiroku_usage_hours_month gauge",
        f"kiroku_usage_hours_month {seconds / 3600:.4f}",
        "# HELP kiroku_http_requests_total HTTP requests served.",
        "# TYPE kiroku_http_requests_total counter",
    ]
    for (method, status), count in sorted(REQUESTS.items()):
        lines.append(f'kiroku_http_requests_total{{method="{method}",status="{status}"}} {count}')
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

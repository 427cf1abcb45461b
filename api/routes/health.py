"""Liveness, readiness (database and broker reachable) and Prometheus metrics."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlmodel import Session

from api.schemas.health import Alive, Readiness
from service.db import get_engine
from service.jobs import job_counts
from service.models import utcnow
from service.queue import get_celery
from service.usage import month_seconds, tokyo_month

router = APIRouter(tags=["health"])

# Requests served, by method and status class; filled by the app's middleware.
REQUESTS: Counter[tuple[str, str]] = Counter()


@router.get("/healthz", summary="生存確認")
def healthz() -> Alive:
    return Alive(status="ok")


@router.get(
    "/readyz",
    summary="準備完了確認 (データベースとキュー)",
    responses={503: {"model": Readiness, "description": "どちらかに接続できません"}},
)
def readyz(response: Response) -> Readiness:
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
def metrics() -> Response:
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

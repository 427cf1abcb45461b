"""Full-text search (全文検索) over the caller's department's transcripts and minutes (``service.search``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.auth import CurrentCaller, DbSession, client_ip
from service.access import audit
from service.errors import ServiceError
from service.models import Role
from service.search import SearchError, index_missing, search

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.get("", summary="全文検索 (文字起こしと議事録。全角・半角、漢数字・算用数字を区別しません)")
def search_records(
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    q: Annotated[str, Query(min_length=1, max_length=200, description="検索語 (空白で区切ると AND)")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> dict[str, Any]:
    """Ranked recordings, each with the matching utterances: snippet, highlight offsets in the snippet,
    segment index and start time (seconds) to open the editor there with the audio."""
    # Clerks and managers: their department. Admins: every department (as for recordings).
    departments = None if caller.role == Role.admin else [caller.user.department_id]
    pending = index_missing(db, departments)
    try:
        result = search(db, q, departments, limit=limit, offset=offset)
    except SearchError as error:
        raise ServiceError(422, "invalid_query", str(error)) from error
    # The query may itself be personal data (a name): the trail keeps only what was shown.
    shown = " ".join(str(item["recording_id"]) for item in result["items"])
    audit(db, "search", caller=caller, detail=f"found {result['total']} shown {shown}".strip(), ip=client_ip(request))
    return {**result, "pending": pending}

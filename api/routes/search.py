"""Full-text search (全文検索) over the caller's department's transcripts and minutes (``service.search``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.auth import CurrentCaller, DbSession, client_ip
from api.schemas.search import SearchResult
from service.search import search_for

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.get("", summary="全文検索 (文字起こしと議事録。全角・半角、漢数字・算用数字を区別しません)")
def search_records(
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    q: Annotated[str, Query(min_length=1, max_length=200, description="検索語 (空白で区切ると AND)")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> SearchResult:
    """Ranked recordings, each with the matching utterances: snippet, highlight offsets in the snippet,
    segment index and start time (seconds) to open the editor there with the audio."""
    found = search_for(db, caller, q, limit=limit, offset=offset, ip=client_ip(request))
    return SearchResult.model_validate(found)

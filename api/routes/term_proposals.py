"""辞書に追加: corrections proposed as dictionary terms, accepted or rejected in one step.

The rules (who sees which proposal, what a proposal holds, where an accepted term goes) are the
domain's, ``service.feedback``; the routes read the request, check access and answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import CurrentCaller, DbSession, client_ip
from api.schemas.term_proposals import AcceptedProposal, DictionaryRef, ProposalList, ProposalOut, ProposalStats
from service import feedback
from service.access import MAX_ID, visible_recording

router = APIRouter(tags=["term proposals"])
P = "/api/v1/term-proposals"


class ProposalIn(BaseModel):
    before: str = Field(min_length=1, max_length=200, description="認識された表記 (例: 花天)")
    after: str = Field(min_length=1, max_length=200, description="正しい表記 (例: 放出)")
    reading: str | None = Field(default=None, max_length=400, description="読み (省略時は認識された表記の読み)")
    category: str = Field(default="", max_length=100)
    segment: int | None = Field(default=None, ge=0, le=MAX_ID, description="発言の番号")
    start: int | None = Field(default=None, ge=0, le=MAX_ID, description="発言中の文字位置 (開始)")
    end: int | None = Field(default=None, ge=0, le=MAX_ID, description="発言中の文字位置 (終了)")


class AcceptIn(BaseModel):
    term: str | None = Field(default=None, min_length=1, max_length=200, description="用語 (省略時は提案のまま)")
    reading: str | None = Field(default=None, max_length=400)
    category: str | None = Field(default=None, max_length=100)
    dictionary_id: int | None = Field(default=None, description="追加先 (省略時は「<部署名> 用語」)")


@router.post(
    "/api/v1/recordings/{recording_id}/term-proposals",
    status_code=201,
    response_model=ProposalOut,
    summary="修正を用語として提案",
)
def propose(
    recording_id: int, body: ProposalIn, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> ProposalOut:
    recording = visible_recording(db, caller, recording_id)
    correction = feedback.Correction(**body.model_dump())
    proposal, created = feedback.propose(db, caller, recording, correction, ip=client_ip(request))
    if not created:  # the same correction again: one proposal
        response.status_code = 200
    return ProposalOut.of(proposal, feedback.proposer_names(db, [proposal]))


@router.get(P, response_model=ProposalList, summary="用語の提案の一覧 (自部署)")
def list_proposals(
    db: DbSession,
    caller: CurrentCaller,
    status: feedback.Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> ProposalList:
    rows = feedback.list_proposals(db, caller, status, limit, offset)
    names = feedback.proposer_names(db, rows)
    return ProposalList(items=[ProposalOut.of(p, names) for p in rows])


@router.get(f"{P}/stats", response_model=list[ProposalStats], summary="辞書に追加された用語の数 (部署ごと)")
def proposal_stats(db: DbSession, caller: CurrentCaller) -> list[ProposalStats]:
    return [ProposalStats.model_validate(row) for row in feedback.stats(db, feedback.departments_of(caller))]


@router.post(
    f"{P}/{{proposal_id}}/accept", response_model=AcceptedProposal, summary="提案を採用して部署の用語辞書に追加"
)
def accept_proposal(
    proposal_id: int, request: Request, db: DbSession, caller: CurrentCaller, body: AcceptIn | None = None
) -> AcceptedProposal:
    proposal = feedback.visible_proposal(db, caller, proposal_id)
    changes = feedback.Acceptance(**(body or AcceptIn()).model_dump())
    dictionary, row = feedback.accept_proposal(db, caller, proposal, changes, ip=client_ip(request))
    assert row.id is not None
    view = ProposalOut.of(proposal, feedback.proposer_names(db, [proposal]))
    return AcceptedProposal(**view.model_dump(), dictionary=DictionaryRef.of(dictionary), dictionary_term_id=row.id)


@router.post(f"{P}/{{proposal_id}}/reject", response_model=ProposalOut, summary="提案を却下")
def reject_proposal(proposal_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> ProposalOut:
    proposal = feedback.visible_proposal(db, caller, proposal_id)
    feedback.reject_proposal(db, caller, proposal, ip=client_ip(request))
    return ProposalOut.of(proposal, feedback.proposer_names(db, [proposal]))

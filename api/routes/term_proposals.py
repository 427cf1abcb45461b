"""辞書に追加: corrections proposed as dictionary terms, accepted or rejected in one step (``service.feedback``).

Proposals belong to the recording's department: clerks and managers see and decide their own
department's, admins every department's; another department's answers 404. Every proposal and
decision is an audit event.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.auth import CurrentCaller, DbSession, client_ip
from api.routes.dictionaries import TermIn, _clean_term
from service.access import Caller, audit, visible_recording
from service.errors import ServiceError, not_found
from service.feedback import accept, default_dictionary, recognised_reading, stats
from service.models import Dictionary, Role, TermProposal, User, utcnow

router = APIRouter(tags=["term proposals"])
P = "/api/v1/term-proposals"


class ProposalIn(BaseModel):
    before: str = Field(min_length=1, max_length=200, description="認識された表記 (例: 花天)")
    after: str = Field(min_length=1, max_length=200, description="正しい表記 (例: 放出)")
    reading: str | None = Field(default=None, max_length=400, description="読み (省略時は認識された表記の読み)")
    category: str = Field(default="", max_length=100)
    segment: int | None = Field(default=None, ge=0, description="発言の番号")
    start: int | None = Field(default=None, ge=0, description="発言中の文字位置 (開始)")
    end: int | None = Field(default=None, ge=0, description="発言中の文字位置 (終了)")


class AcceptIn(BaseModel):
    term: str | None = Field(default=None, min_length=1, max_length=200, description="用語 (省略時は提案のまま)")
    reading: str | None = Field(default=None, max_length=400)
    category: str | None = Field(default=None, max_length=100)
    dictionary_id: int | None = Field(default=None, description="追加先 (省略時は「<部署名> 用語」)")


def _view(proposal: TermProposal, names: dict[int | None, str]) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "department_id": proposal.department_id,
        "recording_id": proposal.recording_id,
        "term": proposal.term,
        "reading": proposal.reading,
        "alias": proposal.alias,
        "category": proposal.category,
        "segment": proposal.segment,
        "start": proposal.start,
        "end": proposal.end,
        "status": proposal.status,
        "proposed_by_id": proposal.proposed_by_id,
        "proposed_by": names.get(proposal.proposed_by_id, ""),
        "decided_by_id": proposal.decided_by_id,
        "dictionary_id": proposal.dictionary_id,
        "created_at": proposal.created_at,
        "decided_at": proposal.decided_at,
    }


def _names(db: Session, proposals: list[TermProposal]) -> dict[int | None, str]:
    ids = {p.proposed_by_id for p in proposals if p.proposed_by_id is not None}
    users = db.exec(select(User).where(col(User.id).in_(ids))).all() if ids else []
    return {u.id: u.display_name or u.name for u in users}


def _departments(caller: Caller) -> list[int] | None:
    return None if caller.role == Role.admin else [caller.user.department_id]


MAX_ID = 2**31 - 1  # ids are 32-bit in PostgreSQL: a larger one is simply not found


def _proposal(db: Session, caller: Caller, proposal_id: int) -> TermProposal:
    proposal = db.get(TermProposal, proposal_id) if 0 < proposal_id <= MAX_ID else None
    allowed = _departments(caller)
    if proposal is None or (allowed is not None and proposal.department_id not in allowed):
        raise not_found()
    return proposal


@router.post("/api/v1/recordings/{recording_id}/term-proposals", status_code=201, summary="修正を用語として提案")
def propose(
    recording_id: int, body: ProposalIn, request: Request, response: Response, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    recording = visible_recording(db, caller, recording_id)
    before, after = body.before.strip(), body.after.strip()
    if not before or not after or before == after:
        raise ServiceError(422, "invalid_proposal", "認識された表記と正しい表記を、違うものとして入力してください。")
    reading = body.reading if body.reading is not None else recognised_reading(before)
    term = _clean_term(TermIn(term=after, reading=reading, aliases=[before], category=body.category))
    pending = db.exec(
        select(TermProposal).where(
            TermProposal.department_id == recording.department_id,
            TermProposal.term == term.term,
            TermProposal.alias == before,
            TermProposal.status == "proposed",
        )
    ).first()
    if pending is not None:  # the same correction again: one proposal
        response.status_code = 200
        return _view(pending, _names(db, [pending]))
    proposal = TermProposal(
        department_id=recording.department_id,
        recording_id=recording_id,
        term=term.term,
        reading=term.reading,
        alias=before,
        category=term.category,
        segment=body.segment,
        start=body.start,
        end=body.end,
        proposed_by_id=caller.user_id,
    )
    db.add(proposal)
    db.flush()
    audit(
        db,
        "term_proposal.create",
        caller=caller,
        recording_id=recording_id,
        detail=f"proposal {proposal.id} department {recording.department_id}",
        ip=client_ip(request),
    )
    db.refresh(proposal)
    return _view(proposal, _names(db, [proposal]))


@router.get(P, summary="用語の提案の一覧 (自部署)")
def list_proposals(
    db: DbSession,
    caller: CurrentCaller,
    status: Literal["proposed", "accepted", "rejected"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    query = select(TermProposal)
    departments = _departments(caller)
    if departments is not None:
        query = query.where(col(TermProposal.department_id).in_(departments))
    if status is not None:
        query = query.where(TermProposal.status == status)
    rows = list(db.exec(query.order_by(col(TermProposal.id).desc()).offset(offset).limit(limit)).all())
    names = _names(db, rows)
    return {"items": [_view(p, names) for p in rows]}


@router.get(f"{P}/stats", summary="辞書に追加された用語の数 (部署ごと)")
def proposal_stats(db: DbSession, caller: CurrentCaller) -> list[dict[str, object]]:
    return stats(db, _departments(caller))


def _decided(proposal: TermProposal) -> ServiceError:
    return ServiceError(
        409, "decided", f"この提案は既に{'採用' if proposal.status == 'accepted' else '却下'}されています。"
    )


@router.post(f"{P}/{{proposal_id}}/accept", summary="提案を採用して部署の用語辞書に追加")
def accept_proposal(
    proposal_id: int, request: Request, db: DbSession, caller: CurrentCaller, body: AcceptIn | None = None
) -> dict[str, Any]:
    proposal = _proposal(db, caller, proposal_id)
    if proposal.status != "proposed":
        raise _decided(proposal)
    body = body or AcceptIn()
    term = _clean_term(
        TermIn(
            term=body.term if body.term is not None else proposal.term,
            reading=body.reading if body.reading is not None else proposal.reading,
            aliases=[proposal.alias] if proposal.alias else [],
            category=body.category if body.category is not None else proposal.category,
        )
    )
    if body.dictionary_id is not None:
        dictionary = db.get(Dictionary, body.dictionary_id) if 0 < body.dictionary_id <= MAX_ID else None
        if dictionary is None or dictionary.department_id != proposal.department_id:
            raise ServiceError(422, "dictionary", f"用語辞書 {body.dictionary_id} はこの部署の辞書ではありません。")
    else:
        dictionary = default_dictionary(db, proposal.department_id)
    row = accept(db, proposal, term, dictionary, caller.user_id)
    detail = f"proposal {proposal_id} dictionary {dictionary.id} term {row.id}"
    audit(
        db,
        "term_proposal.accept",
        caller=caller,
        recording_id=proposal.recording_id,
        detail=detail,
        ip=client_ip(request),
    )
    db.refresh(proposal)
    return {
        **_view(proposal, _names(db, [proposal])),
        "dictionary": {"id": dictionary.id, "name": dictionary.name},
        "dictionary_term_id": row.id,
    }


@router.post(f"{P}/{{proposal_id}}/reject", summary="提案を却下")
def reject_proposal(proposal_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    proposal = _proposal(db, caller, proposal_id)
    if proposal.status != "proposed":
        raise _decided(proposal)
    proposal.status, proposal.decided_by_id, proposal.decided_at = "rejected", caller.user_id, utcnow()
    db.add(proposal)
    detail = f"proposal {proposal_id}"
    audit(
        db,
        "term_proposal.reject",
        caller=caller,
        recording_id=proposal.recording_id,
        detail=detail,
        ip=client_ip(request),
    )
    db.refresh(proposal)
    return _view(proposal, _names(db, [proposal]))

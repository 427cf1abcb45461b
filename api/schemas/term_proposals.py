"""Answers of the term-proposal routes (``api.routes.term_proposals``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from service.models import Dictionary, TermProposal


class ProposalOut(BaseModel):
    id: int
    department_id: int
    recording_id: int | None
    term: str
    reading: str
    alias: str  # what the recogniser wrote
    category: str
    segment: int | None
    start: int | None
    end: int | None
    status: str  # proposed | accepted | rejected
    proposed_by_id: int | None
    proposed_by: str  # the proposer's display name
    decided_by_id: int | None
    dictionary_id: int | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, proposal: TermProposal, names: dict[int | None, str]) -> ProposalOut:
        # The row's fields (the model takes those it declares), and who proposed it by name.
        return cls.model_validate({**proposal.model_dump(), "proposed_by": names.get(proposal.proposed_by_id, "")})


class ProposalList(BaseModel):
    items: list[ProposalOut]


class ProposalStats(BaseModel):
    """One department's count of terms learned from clerks' corrections."""

    department_id: int
    department: str
    accepted: int
    proposed: int
    rejected: int


class DictionaryRef(BaseModel):
    id: int
    name: str

    @classmethod
    def of(cls, dictionary: Dictionary) -> DictionaryRef:
        assert dictionary.id is not None
        return cls(id=dictionary.id, name=dictionary.name)


class AcceptedProposal(ProposalOut):
    dictionary: DictionaryRef  # where the term went
    dictionary_term_id: int

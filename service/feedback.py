"""辞書に追加 (dictionary feedback): a clerk's correction in the editor becomes a proposed term of the
department's dictionary; accepting it is one step, and the next recording of the department gets
the word right (the worker reads the department's dictionaries, ``service.dictionaries.terms_for``).

A proposal keeps what the recogniser wrote (``alias``, e.g. 花天), what it should be (``term``,
放出) and a reading pre-filled from the recognised text (``dictionaries.reading.reading_of``: クマタ
→ くまた). The clerk may correct the reading before accepting: a kanji misrecognition is read as
written (花天 → けてん), not as it was heard. Accepting adds the term, with the recognised form as a
known wrong form, to the department's dictionary (by default 「<部署名> 用語」, created when missing),
or merges it into the term already there.

Proposals belong to the recording's department: clerks and managers see and decide their own
department's, admins every department's; another department's is not found. Every proposal and
decision is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, func, select

from dictionaries.reading import reading_of
from dictionaries.terms import Term, is_kana, to_hiragana
from service.access import Caller, audit, valid_id
from service.dictionaries import add_or_merge, normalize_term
from service.errors import ServiceError, not_found
from service.models import Department, Dictionary, DictionaryTerm, Recording, Role, TermProposal, User, utcnow

Status = Literal["proposed", "accepted", "rejected"]


def recognised_reading(before: str) -> str:
    """The reading of what the recogniser wrote, in hiragana; empty when it is not all kana."""
    reading = to_hiragana(reading_of(before.strip()))
    return reading if is_kana(reading) else ""


def default_dictionary(db: Session, department_id: int) -> Dictionary:
    """The department's 「<部署名> 用語」 dictionary, created when it does not exist yet."""
    department = db.get(Department, department_id)
    assert department is not None
    name = f"{department.name} 用語"[:200]
    found = db.exec(
        select(Dictionary).where(Dictionary.department_id == department_id, Dictionary.name == name)
    ).first()
    if found is not None:
        return found
    dictionary = Dictionary(name=name, department_id=department_id)
    db.add(dictionary)
    db.flush()
    return dictionary


def accept(db: Session, proposal: TermProposal, term: Term, dictionary: Dictionary, user_id: int) -> DictionaryTerm:
    """Add the proposal's term to the dictionary and mark the proposal accepted (not committed)."""
    row = add_or_merge(db, dictionary, term)
    proposal.term, proposal.reading, proposal.category = term.term, term.reading, term.category
    proposal.status, proposal.decided_by_id, proposal.decided_at = "accepted", user_id, utcnow()
    proposal.dictionary_id = dictionary.id
    db.add(proposal)
    return row


# --- who sees which proposal -----------------------------------------------------------------------


def departments_of(caller: Caller) -> list[int] | None:
    """The departments whose proposals the caller sees; None: every department."""
    return None if caller.role == Role.admin else [caller.user.department_id]


def visible_proposal(db: Session, caller: Caller, proposal_id: int) -> TermProposal:
    proposal = db.get(TermProposal, proposal_id) if valid_id(proposal_id) else None
    allowed = departments_of(caller)
    if proposal is None or (allowed is not None and proposal.department_id not in allowed):
        raise not_found()
    return proposal


def proposer_names(db: Session, proposals: list[TermProposal]) -> dict[int | None, str]:
    """Who proposed each: display names (or login names) by user id."""
    ids = {p.proposed_by_id for p in proposals if p.proposed_by_id is not None}
    users = db.exec(select(User).where(col(User.id).in_(ids))).all() if ids else []
    return {u.id: u.display_name or u.name for u in users}


def list_proposals(db: Session, caller: Caller, status: Status | None, limit: int, offset: int) -> list[TermProposal]:
    """The newest first."""
    query = select(TermProposal)
    departments = departments_of(caller)
    if departments is not None:
        query = query.where(col(TermProposal.department_id).in_(departments))
    if status is not None:
        query = query.where(TermProposal.status == status)
    return list(db.exec(query.order_by(col(TermProposal.id).desc()).offset(offset).limit(limit)).all())


# --- proposing and deciding ------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """A clerk's correction in the editor: what the recogniser wrote, what it should be, and where."""

    before: str
    after: str
    reading: str | None = None  # None: the reading of ``before``
    category: str = ""
    segment: int | None = None
    start: int | None = None
    end: int | None = None


def propose(
    db: Session, caller: Caller, recording: Recording, correction: Correction, *, ip: str
) -> tuple[TermProposal, bool]:
    """A proposal for a recording the caller sees, and whether it is new: the same correction again
    (still undecided) is the proposal already there."""
    before, after = correction.before.strip(), correction.after.strip()
    if not before or not after or before == after:
        raise ServiceError(422, "invalid_proposal", "認識された表記と正しい表記を、違うものとして入力してください。")
    reading = correction.reading if correction.reading is not None else recognised_reading(before)
    term = normalize_term(after, reading, [before], correction.category)
    pending = db.exec(
        select(TermProposal).where(
            TermProposal.department_id == recording.department_id,
            TermProposal.term == term.term,
            TermProposal.alias == before,
            TermProposal.status == "proposed",
        )
    ).first()
    if pending is not None:
        return pending, False
    proposal = TermProposal(
        department_id=recording.department_id,
        recording_id=recording.id,
        term=term.term,
        reading=term.reading,
        alias=before,
        category=term.category,
        segment=correction.segment,
        start=correction.start,
        end=correction.end,
        proposed_by_id=caller.user_id,
    )
    db.add(proposal)
    db.flush()
    audit(
        db,
        "term_proposal.create",
        caller=caller,
        recording_id=recording.id,
        detail=f"proposal {proposal.id} department {recording.department_id}",
        ip=ip,
    )
    db.refresh(proposal)
    return proposal, True


def _decided(proposal: TermProposal) -> ServiceError:
    return ServiceError(
        409, "decided", f"この提案は既に{'採用' if proposal.status == 'accepted' else '却下'}されています。"
    )


@dataclass(frozen=True)
class Acceptance:
    """The clerk's changes to a proposal as it is accepted (None: as proposed; no dictionary: the default)."""

    term: str | None = None
    reading: str | None = None
    category: str | None = None
    dictionary_id: int | None = None


def accept_proposal(
    db: Session, caller: Caller, proposal: TermProposal, changes: Acceptance, *, ip: str
) -> tuple[Dictionary, DictionaryTerm]:
    """Accept a visible proposal into its department's dictionary (committed); the dictionary and the
    term it now holds."""
    if proposal.status != "proposed":
        raise _decided(proposal)
    term = normalize_term(
        changes.term if changes.term is not None else proposal.term,
        changes.reading if changes.reading is not None else proposal.reading,
        [proposal.alias] if proposal.alias else [],
        changes.category if changes.category is not None else proposal.category,
    )
    if changes.dictionary_id is not None:
        dictionary_id = changes.dictionary_id
        dictionary = db.get(Dictionary, dictionary_id) if valid_id(dictionary_id) else None
        if dictionary is None or dictionary.department_id != proposal.department_id:
            raise ServiceError(422, "dictionary", f"用語辞書 {dictionary_id} はこの部署の辞書ではありません。")
    else:
        dictionary = default_dictionary(db, proposal.department_id)
    row = accept(db, proposal, term, dictionary, caller.user_id)
    audit(
        db,
        "term_proposal.accept",
        caller=caller,
        recording_id=proposal.recording_id,
        detail=f"proposal {proposal.id} dictionary {dictionary.id} term {row.id}",
        ip=ip,
    )
    db.refresh(proposal)
    return dictionary, row


def reject_proposal(db: Session, caller: Caller, proposal: TermProposal, *, ip: str) -> None:
    """Reject a visible proposal (committed)."""
    if proposal.status != "proposed":
        raise _decided(proposal)
    proposal.status, proposal.decided_by_id, proposal.decided_at = "rejected", caller.user_id, utcnow()
    db.add(proposal)
    audit(
        db,
        "term_proposal.reject",
        caller=caller,
        recording_id=proposal.recording_id,
        detail=f"proposal {proposal.id}",
        ip=ip,
    )
    db.refresh(proposal)


# --- counts ----------------------------------------------------------------------------------------


def stats(db: Session, department_ids: list[int] | None) -> list[dict[str, object]]:
    """Per department: how many terms came from clerks' corrections, and how many wait or were rejected."""
    query = select(TermProposal.department_id, TermProposal.status, func.count()).group_by(
        col(TermProposal.department_id), col(TermProposal.status)
    )
    if department_ids is not None:
        query = query.where(col(TermProposal.department_id).in_(department_ids))
    counts: dict[int, dict[str, int]] = {}
    for department_id, status, n in db.exec(query).all():
        counts.setdefault(department_id, {})[status] = int(n)
    ids = department_ids if department_ids is not None else sorted(counts)
    names = {d.id: d.name for d in db.exec(select(Department).where(col(Department.id).in_(ids))).all()}
    return [
        {
            "department_id": department_id,
            "department": names.get(department_id, ""),
            "accepted": counts.get(department_id, {}).get("accepted", 0),
            "proposed": counts.get(department_id, {}).get("proposed", 0),
            "rejected": counts.get(department_id, {}).get("rejected", 0),
        }
        for department_id in ids
    ]

"""辞書に追加 (dictionary feedback): a clerk's correction in the editor becomes a proposed term of the
department's dictionary; accepting it is one step, and the next recording of the department gets
the word right (the worker reads the department's dictionaries, ``worker.runner.terms_for``).

A proposal keeps what the recogniser wrote (``alias``, e.g. 花天), what it should be (``term``,
放出) and a reading pre-filled from the recognised text (``dictionaries.reading.reading_of``: クマタ
→ くまた). The clerk may correct the reading before accepting: a kanji misrecognition is read as
written (花天 → けてん), not as it was heard. Accepting adds the term, with the recognised form as a
known wrong form, to the department's dictionary (by default 「<部署名> 用語」, created when missing),
or merges it into the term already there.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from dictionaries.reading import reading_of
from dictionaries.terms import Term, is_kana, to_hiragana
from service.models import Department, Dictionary, DictionaryTerm, TermProposal, utcnow

MAX_ALIASES = 2000  # service.models.DictionaryTerm.aliases


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


def add_to_dictionary(db: Session, dictionary: Dictionary, term: Term) -> DictionaryTerm:
    """Add the term, or merge its wrong forms (and a reading it lacked) into the same term already there."""
    assert dictionary.id is not None
    row = db.exec(
        select(DictionaryTerm).where(DictionaryTerm.dictionary_id == dictionary.id, DictionaryTerm.surface == term.term)
    ).first()
    if row is None:
        row = DictionaryTerm(
            dictionary_id=dictionary.id,
            surface=term.term,
            reading=term.reading,
            aliases="|".join(term.aliases),
            category=term.category,
        )
    else:
        aliases = list(dict.fromkeys([*(a for a in row.aliases.split("|") if a), *term.aliases]))
        if len("|".join(aliases)) <= MAX_ALIASES:
            row.aliases = "|".join(aliases)
        row.reading = row.reading or term.reading
        row.category = row.category or term.category
    db.add(row)
    db.flush()
    return row


def accept(db: Session, proposal: TermProposal, term: Term, dictionary: Dictionary, user_id: int) -> DictionaryTerm:
    """Add the proposal's term to the dictionary and mark the proposal accepted (not committed)."""
    row = add_to_dictionary(db, dictionary, term)
    proposal.term, proposal.reading, proposal.category = term.term, term.reading, term.category
    proposal.status, proposal.decided_by_id, proposal.decided_at = "accepted", user_id, utcnow()
    proposal.dictionary_id = dictionary.id
    db.add(proposal)
    return row


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

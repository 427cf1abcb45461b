"""Terminology dictionaries (用語辞書) in the database: the one home of a stored term.

A ``DictionaryTerm`` row is a ``dictionaries.terms.Term`` (aliases kept as a JSON list); this module
is the only one that turns rows into terms and back (``to_term``, ``store``), checks a term before it
is stored (``normalize_term``), merges wrong forms into a stored term (``merge_aliases``) and says
which dictionaries a recording is corrected with (``terms_for``).

Who may do what:

- Everyone sees the city-wide dictionaries and their own department's; admins see all of them.
- Clerks and managers create and edit their own department's dictionaries. Only admins create or
  edit city-wide ones (others get 403) and work on other departments' (others get 404, as for
  recordings, so ids cannot be probed).

CSV is the format clerks keep in Excel (``dictionaries.csv_io``): imports take UTF-8 (with or
without BOM) or Shift_JIS and report bad rows by their row number; exports are UTF-8 with BOM.
Every change is an audit event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel import Session, col, func, select

from dictionaries.csv_io import HEADER, DictionaryFormatError, ParsedDictionary, RowIssue, parse_csv_bytes
from dictionaries.terms import Term, fold_in, is_kana, to_hiragana
from service.access import Caller, audit, valid_id
from service.errors import ServiceError, forbidden, not_found
from service.minutes import unsafe_character
from service.models import Department, Dictionary, DictionaryTerm, Recording, Role
from service.spreadsheet_safety import csv_bytes, restore

log = logging.getLogger(__name__)

# What one term may hold. The aliases count as the CSV cell writes them, one separator between two
# (``dictionaries.csv_io``): what a clerk exports must import again.
MAX_TERM, MAX_READING, MAX_ALIASES, MAX_CATEGORY = 200, 400, 2000, 100
MAX_IMPORT_BYTES = 10 * 1024 * 1024
ALIAS_SEPARATOR = "|"  # splits a CSV cell into aliases, so no alias may hold it

ImportMode = Literal["merge", "replace"]


# --- rows and terms -------------------------------------------------------------------------------


def to_term(row: DictionaryTerm) -> Term:
    """The term a row stores. Raises ValueError for a row without a written form."""
    return Term(row.surface, row.reading, tuple(a for a in row.aliases if a), row.category)


def store(row: DictionaryTerm, term: Term) -> None:
    """Write the term into the row (a new list: JSON columns notice assignment, not mutation)."""
    row.surface, row.reading, row.aliases, row.category = term.term, term.reading, list(term.aliases), term.category


def new_row(dictionary_id: int, term: Term) -> DictionaryTerm:
    row = DictionaryTerm(dictionary_id=dictionary_id, surface=term.term)
    store(row, term)
    return row


def usable_terms(rows: Iterable[DictionaryTerm]) -> list[Term]:
    """The rows' terms; a row that is no term (a blank written form) is skipped and logged."""
    terms: list[Term] = []
    for row in rows:
        try:
            terms.append(to_term(row))
        except ValueError:
            log.warning("skipping unusable term %s", row.id)
    return terms


def aliases_size(aliases: Sequence[str]) -> int:
    """Characters the aliases take in a CSV cell, separators included."""
    return sum(len(alias) for alias in aliases) + max(len(aliases) - 1, 0)


def merge_aliases(stored: Sequence[str], added: Sequence[str]) -> tuple[str, ...]:
    """The stored aliases, then the new ones not there yet; the stored ones alone when all would not fit."""
    merged = tuple(dict.fromkeys([*stored, *added]))
    return merged if aliases_size(merged) <= MAX_ALIASES else tuple(stored)


def size_problem(term: Term) -> str | None:
    """Why the term is too large to store, or None."""
    if len(term.term) > MAX_TERM:
        return f"用語が長すぎます({MAX_TERM}文字まで)"
    if len(term.reading) > MAX_READING:
        return f"読みが長すぎます({MAX_READING}文字まで)"
    if aliases_size(term.aliases) > MAX_ALIASES:
        return f"誤表記が長すぎます(合わせて{MAX_ALIASES}文字まで)"
    if len(term.category) > MAX_CATEGORY:
        return f"分類が長すぎます({MAX_CATEGORY}文字まで)"
    return None


def _invalid(message: str) -> ServiceError:
    return ServiceError(422, "invalid_term", message)


def normalize_term(term: str, reading: str = "", aliases: Sequence[str] = (), category: str = "") -> Term:
    """The stored form: trimmed, reading in hiragana, aliases without blanks, duplicates or the term.

    Raises ServiceError (422) for what cannot be stored."""
    surface = term.strip()
    if not surface:
        raise _invalid("用語が空です。")
    code = unsafe_character([term, reading, list(aliases), category])
    if code is not None:  # PostgreSQL refuses NUL; exports and minutes cannot hold the others
        raise _invalid(f"使えない文字 ({code}) が含まれています。")
    kana = to_hiragana(reading.strip().replace(" ", "").replace("\u3000", ""))
    if kana and not is_kana(kana):
        raise _invalid(f"読み「{kana}」はひらがなかカタカナで書いてください。")
    kept: list[str] = []
    for alias in aliases:
        alias = alias.strip()
        if ALIAS_SEPARATOR in alias:
            raise _invalid(f"誤表記「{alias}」に「{ALIAS_SEPARATOR}」は使えません。")
        if alias and alias != surface and alias not in kept:
            kept.append(alias)
    cleaned = Term(surface, kana, tuple(kept), category.strip())
    problem = size_problem(cleaned)
    if problem:
        raise _invalid(problem + "。")
    return cleaned


# --- which dictionaries apply ----------------------------------------------------------------------


def department_dictionary_ids(db: Session, department_id: int) -> list[int]:
    """The city-wide dictionaries and the department's own."""
    query = select(Dictionary.id).where(
        col(Dictionary.department_id).is_(None) | (col(Dictionary.department_id) == department_id)
    )
    return [i for i in db.exec(query).all() if i is not None]


def dictionary_terms(db: Session, dictionary_ids: Sequence[int]) -> list[Term]:
    if not dictionary_ids:
        return []
    rows = db.exec(select(DictionaryTerm).where(col(DictionaryTerm.dictionary_id).in_(dictionary_ids))).all()
    return usable_terms(rows)


def terms_for(db: Session, recording: Recording) -> list[Term]:
    """The terms a recording is corrected with: its chosen dictionaries; none chosen: city-wide plus
    its department's."""
    ids = list(recording.dictionary_ids) or department_dictionary_ids(db, recording.department_id)
    return dictionary_terms(db, ids)


# --- who may see and change a dictionary -----------------------------------------------------------


def visible(caller: Caller, dictionary: Dictionary) -> bool:
    return (
        caller.role == Role.admin
        or dictionary.department_id is None
        or dictionary.department_id == caller.user.department_id
    )


def may_edit(caller: Caller, dictionary: Dictionary) -> bool:
    return caller.role == Role.admin or (
        dictionary.department_id is not None and dictionary.department_id == caller.user.department_id
    )


def readable_dictionary(db: Session, caller: Caller, dictionary_id: int) -> Dictionary:
    dictionary = db.get(Dictionary, dictionary_id) if valid_id(dictionary_id) else None
    if dictionary is None or not visible(caller, dictionary):
        raise not_found()
    return dictionary


def editable_dictionary(db: Session, caller: Caller, dictionary_id: int) -> Dictionary:
    """Another department's: 404 (as if it did not exist). City-wide, for a non-admin: 403."""
    dictionary = readable_dictionary(db, caller, dictionary_id)
    if not may_edit(caller, dictionary):
        raise ServiceError(403, "forbidden", "全市共通の用語辞書を変更できるのは管理者だけです。")
    return dictionary


def term_row(db: Session, dictionary_id: int, term_id: int) -> DictionaryTerm:
    """A term, addressed through its own dictionary only."""
    row = db.get(DictionaryTerm, term_id) if valid_id(term_id) else None
    if row is None or row.dictionary_id != dictionary_id:
        raise not_found()
    return row


# --- reading ---------------------------------------------------------------------------------------


def department_names(db: Session) -> dict[int | None, str]:
    return {d.id: d.name for d in db.exec(select(Department)).all()}


def stored_terms(db: Session, dictionary_id: int) -> list[DictionaryTerm]:
    query = select(DictionaryTerm).where(DictionaryTerm.dictionary_id == dictionary_id)
    return list(db.exec(query.order_by(col(DictionaryTerm.id))).all())


def visible_dictionaries(db: Session, caller: Caller) -> list[tuple[Dictionary, int]]:
    """The dictionaries the caller sees, each with its number of terms: city-wide first, then by
    department and name (sorted here: collations differ between databases)."""
    counts = select(DictionaryTerm.dictionary_id, func.count().label("n")).group_by(col(DictionaryTerm.dictionary_id))
    count_of: dict[int | None, int] = {dictionary_id: n for dictionary_id, n in db.exec(counts).all()}
    query = select(Dictionary)
    if caller.role != Role.admin:
        query = query.where(
            col(Dictionary.department_id).is_(None) | (col(Dictionary.department_id) == caller.user.department_id)
        )
    found = sorted(db.exec(query).all(), key=lambda d: (d.department_id is not None, d.department_id or 0, d.name))
    return [(d, count_of.get(d.id, 0)) for d in found]


def export_terms(db: Session, dictionary: Dictionary) -> bytes:
    """The dictionary as CSV for Excel (UTF-8 with BOM), the format ``dictionaries.csv_io`` reads.

    A cell Excel would run as a formula (a term or category starting with = + - @) is marked as
    text with a leading apostrophe; ``import_csv`` takes the mark off again (``spreadsheet_safety``)."""
    assert dictionary.id is not None
    terms = usable_terms(stored_terms(db, dictionary.id))
    return csv_bytes(HEADER, ([t.term, t.reading, ALIAS_SEPARATOR.join(t.aliases), t.category] for t in terms))


def _unmarked(parsed: ParsedDictionary) -> ParsedDictionary:
    """The terms without the apostrophe an export put before a formula-like cell (merged again where
    a file holds a term both with and without it)."""
    terms: list[Term] = []
    rows: dict[str, int] = {}
    at: dict[str, int] = {}
    for term in parsed.terms:
        # Only a cell's start can be marked: the term, the category, and the first alias of the cell.
        surface = restore(term.term)
        aliases = tuple(a for a in (*map(restore, term.aliases[:1]), *term.aliases[1:]) if a != surface)
        plain = Term(surface, term.reading, aliases, restore(term.category))
        if plain.term in at:
            terms[at[plain.term]] = fold_in(terms[at[plain.term]], plain)
            continue
        at[plain.term] = len(terms)
        rows[plain.term] = parsed.rows.get(term.term, 0)
        terms.append(plain)
    return ParsedDictionary(terms, parsed.errors, parsed.warnings, rows)


# --- changes ---------------------------------------------------------------------------------------


def create_dictionary(
    db: Session, caller: Caller, name: str, *, city_wide: bool, department_id: int | None, ip: str
) -> Dictionary:
    """A new, empty dictionary: city-wide (admins only), or a department's (the caller's own by default)."""
    admin = caller.role == Role.admin
    if city_wide:
        if not admin:
            raise ServiceError(403, "forbidden", "全市共通の用語辞書を作成できるのは管理者だけです。")
        if department_id is not None:
            raise ServiceError(422, "invalid", "全市共通の辞書に部署は指定できません。")
    else:
        department_id = department_id if department_id is not None else caller.user.department_id
        if not admin and department_id != caller.user.department_id:
            raise forbidden()
        if department_id is None or not valid_id(department_id) or db.get(Department, department_id) is None:
            raise ServiceError(422, "department", f"部署 {department_id} がありません。")
    name = name.strip()
    if not name:
        raise ServiceError(422, "invalid", "辞書の名前が空です。")
    if unsafe_character(name) is not None:
        raise ServiceError(422, "invalid", "辞書の名前に使えない文字が含まれています。")
    same_scope = select(Dictionary.id).where(Dictionary.name == name)
    same_scope = same_scope.where(
        col(Dictionary.department_id).is_(None)
        if department_id is None
        else col(Dictionary.department_id) == department_id
    )
    if db.exec(same_scope).first() is not None:
        raise ServiceError(409, "duplicate_dictionary", f"用語辞書「{name}」は既にあります。")
    dictionary = Dictionary(name=name, department_id=department_id)
    db.add(dictionary)
    db.flush()
    scope = "city" if department_id is None else f"department {department_id}"
    audit(db, "dictionary.create", caller=caller, detail=f"dictionary {dictionary.id} {scope}", ip=ip)
    db.refresh(dictionary)
    return dictionary


def delete_dictionary(db: Session, caller: Caller, dictionary: Dictionary, *, ip: str) -> None:
    """The dictionary and its terms (an editable one: ``editable_dictionary``)."""
    assert dictionary.id is not None
    for row in stored_terms(db, dictionary.id):
        db.delete(row)
    db.flush()
    db.delete(dictionary)
    audit(db, "dictionary.delete", caller=caller, detail=f"dictionary {dictionary.id}", ip=ip, commit=False)
    db.commit()


def _surface_taken(db: Session, dictionary_id: int, surface: str, except_id: int | None = None) -> bool:
    query = select(DictionaryTerm.id).where(
        DictionaryTerm.dictionary_id == dictionary_id, DictionaryTerm.surface == surface
    )
    return any(found != except_id for found in db.exec(query).all())


def _duplicate(surface: str) -> ServiceError:
    return ServiceError(409, "duplicate_term", f"「{surface}」はこの辞書に既にあります。")


def add_term(db: Session, caller: Caller, dictionary: Dictionary, term: Term, *, ip: str) -> DictionaryTerm:
    """Add a normalized term (``normalize_term``); 409 when the dictionary has its written form."""
    assert dictionary.id is not None
    if _surface_taken(db, dictionary.id, term.term):
        raise _duplicate(term.term)
    row = new_row(dictionary.id, term)
    db.add(row)
    db.flush()
    detail = f"dictionary {dictionary.id} term {row.id}"
    audit(db, "dictionary.term_add", caller=caller, detail=detail, ip=ip, commit=False)
    db.commit()
    db.refresh(row)
    return row


def edit_term(db: Session, caller: Caller, row: DictionaryTerm, term: Term, *, ip: str) -> DictionaryTerm:
    """Replace a stored term (``term_row``) by a normalized one; 409 when another term has its written form."""
    if _surface_taken(db, row.dictionary_id, term.term, except_id=row.id):
        raise _duplicate(term.term)
    store(row, term)
    db.add(row)
    detail = f"dictionary {row.dictionary_id} term {row.id}"
    audit(db, "dictionary.term_edit", caller=caller, detail=detail, ip=ip, commit=False)
    db.commit()
    db.refresh(row)
    return row


def delete_term(db: Session, caller: Caller, row: DictionaryTerm, *, ip: str) -> None:
    detail = f"dictionary {row.dictionary_id} term {row.id}"
    db.delete(row)
    audit(db, "dictionary.term_delete", caller=caller, detail=detail, ip=ip, commit=False)
    db.commit()


def add_or_merge(db: Session, dictionary: Dictionary, term: Term) -> DictionaryTerm:
    """Add the term, or merge its wrong forms (and a reading or category it lacked) into the same
    term already there (flushed, not committed)."""
    assert dictionary.id is not None
    row = db.exec(
        select(DictionaryTerm).where(DictionaryTerm.dictionary_id == dictionary.id, DictionaryTerm.surface == term.term)
    ).first()
    if row is None:
        row = new_row(dictionary.id, term)
    else:
        row.aliases = list(merge_aliases(row.aliases, term.aliases))
        row.reading = row.reading or term.reading
        row.category = row.category or term.category
    db.add(row)
    db.flush()
    return row


# --- CSV import ------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    dictionary_id: int
    mode: ImportMode
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[RowIssue] = field(default_factory=list)  # rows skipped
    warnings: list[RowIssue] = field(default_factory=list)  # rows kept, with a remark


def import_csv(
    db: Session, caller: Caller, dictionary: Dictionary, data: bytes, mode: ImportMode, *, ip: str
) -> ImportReport:
    """Take a CSV's terms into an editable dictionary.

    merge: new terms are added, known ones get the new aliases and what the file gives (it never
    blanks a field). replace: the dictionary becomes the file (refused when no row is usable)."""
    assert dictionary.id is not None
    if len(data) > MAX_IMPORT_BYTES:
        raise ServiceError(413, "too_large", f"CSV が大きすぎます(上限 {MAX_IMPORT_BYTES // 1024**2} MB)。")
    try:
        parsed = _unmarked(parse_csv_bytes(data))
    except DictionaryFormatError as error:
        raise ServiceError(422, "invalid_csv", f"CSV を読み込めません: {error}") from error
    report = ImportReport(dictionary.id, mode, errors=list(parsed.errors), warnings=list(parsed.warnings))
    terms: list[Term] = []
    for term in parsed.terms:
        problem = size_problem(term)
        if problem:
            report.errors.append(RowIssue(parsed.rows.get(term.term, 0), problem))
        else:
            terms.append(term)
    report.errors.sort(key=lambda issue: issue.row)
    if mode == "replace" and not terms:
        raise ServiceError(
            422,
            "empty_csv",
            "取り込める行がないため、辞書を置き換えませんでした。"
            + "".join(f" {issue}" for issue in report.errors[:20]),
        )

    existing = {row.surface: row for row in stored_terms(db, dictionary.id)}
    if mode == "replace":
        keep = {t.term for t in terms}
        for surface, row in list(existing.items()):
            if surface not in keep:
                db.delete(row)
                del existing[surface]
                report.removed += 1
    for term in terms:
        found = existing.get(term.term)
        if found is None:
            db.add(new_row(dictionary.id, term))
            report.added += 1
            continue
        row = found
        if mode == "merge":
            term = Term(
                term.term,
                term.reading or row.reading,
                merge_aliases(row.aliases, term.aliases),
                term.category or row.category,
            )
        before = (row.reading, list(row.aliases), row.category)
        store(row, term)
        if (row.reading, row.aliases, row.category) == before:
            report.unchanged += 1
        else:
            db.add(row)
            report.updated += 1
    detail = (
        f"dictionary {dictionary.id} mode {mode} added {report.added} updated {report.updated} "
        f"removed {report.removed} skipped {len(report.errors)}"
    )
    audit(db, "dictionary.import", caller=caller, detail=detail, ip=ip, commit=False)
    db.commit()
    return report

"""Terminology dictionaries (用語辞書): city-wide and per department, edited term by term or as CSV.

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

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from api.auth import CurrentCaller, DbSession, client_ip
from dictionaries.csv_io import DictionaryFormatError, RowIssue, parse_csv_bytes, write_csv
from dictionaries.terms import Term, is_kana, to_hiragana
from service.access import MAX_ID, Caller, audit
from service.errors import ServiceError, forbidden, not_found
from service.minutes import unsafe_character
from service.models import Department, Dictionary, DictionaryTerm, Role

router = APIRouter(prefix="/api/v1/dictionaries", tags=["dictionaries"])

MAX_IMPORT_BYTES = 10 * 1024 * 1024
# The columns' sizes in the database (service.models.DictionaryTerm).
MAX_TERM, MAX_READING, MAX_ALIASES, MAX_CATEGORY = 200, 400, 2000, 100


# --- who may see and change a dictionary ---------------------------------------------------------


def _visible(caller: Caller, dictionary: Dictionary) -> bool:
    return (
        caller.role == Role.admin
        or dictionary.department_id is None
        or dictionary.department_id == caller.user.department_id
    )


def _may_edit(caller: Caller, dictionary: Dictionary) -> bool:
    return caller.role == Role.admin or (
        dictionary.department_id is not None and dictionary.department_id == caller.user.department_id
    )


def readable_dictionary(db: Session, caller: Caller, dictionary_id: int) -> Dictionary:
    dictionary = db.get(Dictionary, dictionary_id) if 0 < dictionary_id <= MAX_ID else None
    if dictionary is None or not _visible(caller, dictionary):
        raise not_found()
    return dictionary


def editable_dictionary(db: Session, caller: Caller, dictionary_id: int) -> Dictionary:
    """Another department's: 404 (as if it did not exist). City-wide, for a non-admin: 403."""
    dictionary = readable_dictionary(db, caller, dictionary_id)
    if not _may_edit(caller, dictionary):
        raise ServiceError(403, "forbidden", "全市共通の用語辞書を変更できるのは管理者だけです。")
    return dictionary


# --- views ----------------------------------------------------------------------------------------


def _term_view(row: DictionaryTerm) -> dict[str, Any]:
    return {
        "id": row.id,
        "term": row.surface,
        "reading": row.reading,
        "aliases": [a for a in row.aliases.split("|") if a],
        "category": row.category,
    }


def _dictionary_view(
    caller: Caller, dictionary: Dictionary, names: dict[int | None, str], term_count: int
) -> dict[str, Any]:
    return {
        "id": dictionary.id,
        "name": dictionary.name,
        "city_wide": dictionary.department_id is None,
        "department_id": dictionary.department_id,
        "department": names.get(dictionary.department_id, "") if dictionary.department_id is not None else "",
        "term_count": term_count,
        "editable": _may_edit(caller, dictionary),
        "created_at": dictionary.created_at,
    }


def _department_names(db: Session) -> dict[int | None, str]:
    return {d.id: d.name for d in db.exec(select(Department)).all()}


def _terms(db: Session, dictionary_id: int) -> list[DictionaryTerm]:
    query = select(DictionaryTerm).where(DictionaryTerm.dictionary_id == dictionary_id)
    return list(db.exec(query.order_by(col(DictionaryTerm.id))).all())


# --- input ---------------------------------------------------------------------------------------


class NewDictionary(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="辞書の名前")
    city_wide: bool = Field(default=False, description="全市共通 (管理者のみ)")
    department_id: int | None = Field(default=None, description="部署 (省略時は自分の部署。管理者以外は自分の部署だけ)")


class TermIn(BaseModel):
    term: str = Field(min_length=1, max_length=MAX_TERM, description="議事録に書く表記")
    reading: str = Field(default="", max_length=MAX_READING, description="読み (ひらがな・カタカナ)")
    aliases: list[str] = Field(default_factory=list, max_length=200, description="誤表記")
    category: str = Field(default="", max_length=MAX_CATEGORY, description="分類")


def _invalid(message: str) -> ServiceError:
    return ServiceError(422, "invalid_term", message)


def _clean_term(body: TermIn) -> Term:
    """The stored form: trimmed, reading in hiragana, aliases without blanks, duplicates or the term."""
    surface = body.term.strip()
    if not surface:
        raise _invalid("用語が空です。")
    code = unsafe_character([body.term, body.reading, body.aliases, body.category])
    if code is not None:  # PostgreSQL refuses NUL; exports and minutes cannot hold the others
        raise _invalid(f"使えない文字 ({code}) が含まれています。")
    reading = to_hiragana(body.reading.strip().replace(" ", "").replace("\u3000", ""))
    if reading and not is_kana(reading):
        raise _invalid(f"読み「{reading}」はひらがなかカタカナで書いてください。")
    aliases: list[str] = []
    for alias in body.aliases:
        alias = alias.strip()
        if "|" in alias:
            raise _invalid(f"誤表記「{alias}」に「|」は使えません。")
        if alias and alias != surface and alias not in aliases:
            aliases.append(alias)
    term = Term(surface, reading, tuple(aliases), body.category.strip())
    problem = _size_problem(term)
    if problem:
        raise _invalid(problem + "。")
    return term


def _size_problem(term: Term) -> str | None:
    if len(term.term) > MAX_TERM:
        return f"用語が長すぎます({MAX_TERM}文字まで)"
    if len(term.reading) > MAX_READING:
        return f"読みが長すぎます({MAX_READING}文字まで)"
    if len("|".join(term.aliases)) > MAX_ALIASES:
        return f"誤表記が長すぎます(合わせて{MAX_ALIASES}文字まで)"
    if len(term.category) > MAX_CATEGORY:
        return f"分類が長すぎます({MAX_CATEGORY}文字まで)"
    return None


def _assign(row: DictionaryTerm, term: Term) -> None:
    row.surface, row.reading, row.aliases, row.category = term.term, term.reading, "|".join(term.aliases), term.category


def _surface_taken(db: Session, dictionary_id: int, surface: str, except_id: int | None = None) -> bool:
    query = select(DictionaryTerm.id).where(
        DictionaryTerm.dictionary_id == dictionary_id, DictionaryTerm.surface == surface
    )
    return any(found != except_id for found in db.exec(query).all())


def _duplicate(surface: str) -> ServiceError:
    return ServiceError(409, "duplicate_term", f"「{surface}」はこの辞書に既にあります。")


# --- dictionaries --------------------------------------------------------------------------------


@router.get("", summary="用語辞書の一覧 (全市共通と自部署)")
def list_dictionaries(db: DbSession, caller: CurrentCaller) -> list[dict[str, Any]]:
    counts = select(DictionaryTerm.dictionary_id, func.count().label("n")).group_by(col(DictionaryTerm.dictionary_id))
    count_of: dict[int | None, int] = {dictionary_id: n for dictionary_id, n in db.exec(counts).all()}
    query = select(Dictionary)
    if caller.role != Role.admin:
        query = query.where(
            col(Dictionary.department_id).is_(None) | (col(Dictionary.department_id) == caller.user.department_id)
        )
    # City-wide first, then by department and name (sorted here: collations differ between databases).
    found = sorted(db.exec(query).all(), key=lambda d: (d.department_id is not None, d.department_id or 0, d.name))
    names = _department_names(db)
    return [_dictionary_view(caller, d, names, count_of.get(d.id, 0)) for d in found]


@router.post("", status_code=201, summary="用語辞書の作成")
def create_dictionary(body: NewDictionary, request: Request, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    admin = caller.role == Role.admin
    department_id: int | None
    if body.city_wide:
        if not admin:
            raise ServiceError(403, "forbidden", "全市共通の用語辞書を作成できるのは管理者だけです。")
        if body.department_id is not None:
            raise ServiceError(422, "invalid", "全市共通の辞書に部署は指定できません。")
        department_id = None
    else:
        department_id = body.department_id if body.department_id is not None else caller.user.department_id
        if not admin and department_id != caller.user.department_id:
            raise forbidden()
        if department_id is None or not 0 < department_id <= MAX_ID or db.get(Department, department_id) is None:
            raise ServiceError(422, "department", f"部署 {department_id} がありません。")
    name = body.name.strip()
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
    audit(db, "dictionary.create", caller=caller, detail=f"dictionary {dictionary.id} {scope}", ip=client_ip(request))
    db.refresh(dictionary)
    return _dictionary_view(caller, dictionary, _department_names(db), 0)


@router.get("/{dictionary_id}", summary="用語辞書と用語")
def get_dictionary(dictionary_id: int, db: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    dictionary = readable_dictionary(db, caller, dictionary_id)
    terms = _terms(db, dictionary_id)
    view = _dictionary_view(caller, dictionary, _department_names(db), len(terms))
    return {**view, "terms": [_term_view(t) for t in terms]}


@router.delete("/{dictionary_id}", status_code=204, summary="用語辞書の削除")
def delete_dictionary(dictionary_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    dictionary = editable_dictionary(db, caller, dictionary_id)
    for row in _terms(db, dictionary_id):
        db.delete(row)
    db.flush()
    db.delete(dictionary)
    audit(
        db,
        "dictionary.delete",
        caller=caller,
        detail=f"dictionary {dictionary_id}",
        ip=client_ip(request),
        commit=False,
    )
    db.commit()
    return Response(status_code=204)


# --- terms ---------------------------------------------------------------------------------------


@router.post("/{dictionary_id}/terms", status_code=201, summary="用語の追加")
def add_term(
    dictionary_id: int, body: TermIn, request: Request, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    editable_dictionary(db, caller, dictionary_id)
    term = _clean_term(body)
    if _surface_taken(db, dictionary_id, term.term):
        raise _duplicate(term.term)
    row = DictionaryTerm(dictionary_id=dictionary_id, surface=term.term)
    _assign(row, term)
    db.add(row)
    db.flush()
    detail = f"dictionary {dictionary_id} term {row.id}"
    audit(db, "dictionary.term_add", caller=caller, detail=detail, ip=client_ip(request), commit=False)
    db.commit()
    db.refresh(row)
    return _term_view(row)


def _term_row(db: Session, dictionary_id: int, term_id: int) -> DictionaryTerm:
    row = db.get(DictionaryTerm, term_id) if 0 < term_id <= MAX_ID else None
    if row is None or row.dictionary_id != dictionary_id:
        raise not_found()
    return row


@router.put("/{dictionary_id}/terms/{term_id}", summary="用語の変更")
def edit_term(
    dictionary_id: int, term_id: int, body: TermIn, request: Request, db: DbSession, caller: CurrentCaller
) -> dict[str, Any]:
    editable_dictionary(db, caller, dictionary_id)
    row = _term_row(db, dictionary_id, term_id)
    term = _clean_term(body)
    if _surface_taken(db, dictionary_id, term.term, except_id=term_id):
        raise _duplicate(term.term)
    _assign(row, term)
    db.add(row)
    detail = f"dictionary {dictionary_id} term {term_id}"
    audit(db, "dictionary.term_edit", caller=caller, detail=detail, ip=client_ip(request), commit=False)
    db.commit()
    db.refresh(row)
    return _term_view(row)


@router.delete("/{dictionary_id}/terms/{term_id}", status_code=204, summary="用語の削除")
def delete_term(dictionary_id: int, term_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    editable_dictionary(db, caller, dictionary_id)
    db.delete(_term_row(db, dictionary_id, term_id))
    detail = f"dictionary {dictionary_id} term {term_id}"
    audit(db, "dictionary.term_delete", caller=caller, detail=detail, ip=client_ip(request), commit=False)
    db.commit()
    return Response(status_code=204)


# --- CSV -----------------------------------------------------------------------------------------


def _issue_view(issue: RowIssue) -> dict[str, Any]:
    return {"row": issue.row, "message": issue.message, "text": str(issue)}


@router.post("/{dictionary_id}/import", summary="CSV から用語を取り込む (UTF-8 / Shift_JIS)")
def import_csv(
    dictionary_id: int,
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    file: Annotated[UploadFile, File(description="term,reading,aliases,category の CSV")],
    mode: Annotated[
        Literal["merge", "replace"], Form(description="merge: 追加・更新 / replace: 辞書の中身を置き換える")
    ] = "merge",
) -> dict[str, Any]:
    editable_dictionary(db, caller, dictionary_id)
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ServiceError(413, "too_large", f"CSV が大きすぎます(上限 {MAX_IMPORT_BYTES // 1024**2} MB)。")
    try:
        parsed = parse_csv_bytes(data)
    except DictionaryFormatError as error:
        raise ServiceError(422, "invalid_csv", f"CSV を読み込めません: {error}") from error
    errors = list(parsed.errors)
    terms: list[Term] = []
    for term in parsed.terms:
        problem = _size_problem(term)
        if problem:
            errors.append(RowIssue(parsed.rows.get(term.term, 0), problem))
        else:
            terms.append(term)
    errors.sort(key=lambda issue: issue.row)
    if mode == "replace" and not terms:
        raise ServiceError(
            422,
            "empty_csv",
            "取り込める行がないため、辞書を置き換えませんでした。" + "".join(f" {issue}" for issue in errors[:20]),
        )

    existing = {row.surface: row for row in _terms(db, dictionary_id)}
    added = updated = unchanged = removed = 0
    if mode == "replace":
        keep = {t.term for t in terms}
        for surface, row in list(existing.items()):
            if surface not in keep:
                db.delete(row)
                del existing[surface]
                removed += 1
    for term in terms:
        found = existing.get(term.term)
        if found is None:
            new_row = DictionaryTerm(dictionary_id=dictionary_id, surface=term.term)
            _assign(new_row, term)
            db.add(new_row)
            added += 1
            continue
        row = found
        if mode == "merge":  # the CSV adds aliases and fills in what it gives; it never blanks a field
            stored = [a for a in row.aliases.split("|") if a]
            merged = tuple(dict.fromkeys([*stored, *term.aliases]))
            if len("|".join(merged)) > MAX_ALIASES:
                merged = tuple(stored)
            term = Term(term.term, term.reading or row.reading, merged, term.category or row.category)
        before = (row.reading, row.aliases, row.category)
        _assign(row, term)
        if (row.reading, row.aliases, row.category) == before:
            unchanged += 1
        else:
            db.add(row)
            updated += 1
    detail = (
        f"dictionary {dictionary_id} mode {mode} added {added} updated {updated} removed {removed} "
        f"skipped {len(errors)}"
    )
    audit(db, "dictionary.import", caller=caller, detail=detail, ip=client_ip(request), commit=False)
    db.commit()
    return {
        "dictionary_id": dictionary_id,
        "mode": mode,
        "added": added,
        "updated": updated,
        "unchanged": unchanged,
        "removed": removed,
        "skipped": len(errors),
        "errors": [_issue_view(issue) for issue in errors],
        "warnings": [_issue_view(issue) for issue in parsed.warnings],
    }


@router.get("/{dictionary_id}/export", summary="CSV に書き出す (UTF-8 BOM 付き、Excel で開けます)")
def export_csv(dictionary_id: int, db: DbSession, caller: CurrentCaller) -> Response:
    dictionary = readable_dictionary(db, caller, dictionary_id)
    terms = [
        Term(row.surface, row.reading, tuple(a for a in row.aliases.split("|") if a), row.category)
        for row in _terms(db, dictionary_id)
    ]
    ascii_name = f"dictionary-{dictionary_id}.csv"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(dictionary.name, safe='')}.csv"
    return Response(
        write_csv(terms), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )

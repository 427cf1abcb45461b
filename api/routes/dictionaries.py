"""Terminology dictionaries (用語辞書): city-wide and per department, edited term by term or as CSV.

The rules (who may see and change which dictionary, what a term may hold, how a CSV is taken in)
are the domain's, ``service.dictionaries``; the routes read the request, check access and answer.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import BaseModel, Field

from api.auth import CurrentCaller, DbSession, client_ip
from api.schemas.dictionaries import DictionaryOut, DictionaryWithTerms, ImportOut, TermOut
from dictionaries.terms import Term
from service import dictionaries as domain
from service.access import audit
from service.dictionaries import MAX_CATEGORY, MAX_IMPORT_BYTES, MAX_READING, MAX_TERM

router = APIRouter(prefix="/api/v1/dictionaries", tags=["dictionaries"])


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


# --- dictionaries --------------------------------------------------------------------------------


@router.get("", response_model=list[DictionaryOut], summary="用語辞書の一覧 (全市共通と自部署)")
def list_dictionaries(db: DbSession, caller: CurrentCaller) -> list[DictionaryOut]:
    names = domain.department_names(db)
    return [
        DictionaryOut.of(d, names, count, domain.may_edit(caller, d))
        for d, count in domain.visible_dictionaries(db, caller)
    ]


@router.post("", status_code=201, response_model=DictionaryOut, summary="用語辞書の作成")
def create_dictionary(body: NewDictionary, request: Request, db: DbSession, caller: CurrentCaller) -> DictionaryOut:
    dictionary = domain.create_dictionary(
        db, caller, body.name, city_wide=body.city_wide, department_id=body.department_id, ip=client_ip(request)
    )
    return DictionaryOut.of(dictionary, domain.department_names(db), 0, domain.may_edit(caller, dictionary))


@router.get("/{dictionary_id}", response_model=DictionaryWithTerms, summary="用語辞書と用語")
def get_dictionary(dictionary_id: int, db: DbSession, caller: CurrentCaller) -> DictionaryWithTerms:
    dictionary = domain.readable_dictionary(db, caller, dictionary_id)
    rows = domain.stored_terms(db, dictionary_id)
    view = DictionaryOut.of(dictionary, domain.department_names(db), len(rows), domain.may_edit(caller, dictionary))
    return DictionaryWithTerms(**view.model_dump(), terms=[TermOut.of(row) for row in rows])


@router.delete("/{dictionary_id}", status_code=204, summary="用語辞書の削除")
def delete_dictionary(dictionary_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    dictionary = domain.editable_dictionary(db, caller, dictionary_id)
    domain.delete_dictionary(db, caller, dictionary, ip=client_ip(request))
    return Response(status_code=204)


# --- terms ---------------------------------------------------------------------------------------


def _term(body: TermIn) -> Term:
    return domain.normalize_term(body.term, body.reading, body.aliases, body.category)


@router.post("/{dictionary_id}/terms", status_code=201, response_model=TermOut, summary="用語の追加")
def add_term(dictionary_id: int, body: TermIn, request: Request, db: DbSession, caller: CurrentCaller) -> TermOut:
    dictionary = domain.editable_dictionary(db, caller, dictionary_id)
    row = domain.add_term(db, caller, dictionary, _term(body), ip=client_ip(request))
    return TermOut.of(row)


@router.put("/{dictionary_id}/terms/{term_id}", response_model=TermOut, summary="用語の変更")
def edit_term(
    dictionary_id: int, term_id: int, body: TermIn, request: Request, db: DbSession, caller: CurrentCaller
) -> TermOut:
    domain.editable_dictionary(db, caller, dictionary_id)
    row = domain.term_row(db, dictionary_id, term_id)
    return TermOut.of(domain.edit_term(db, caller, row, _term(body), ip=client_ip(request)))


@router.delete("/{dictionary_id}/terms/{term_id}", status_code=204, summary="用語の削除")
def delete_term(dictionary_id: int, term_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    domain.editable_dictionary(db, caller, dictionary_id)
    domain.delete_term(db, caller, domain.term_row(db, dictionary_id, term_id), ip=client_ip(request))
    return Response(status_code=204)


# --- CSV -----------------------------------------------------------------------------------------


@router.post("/{dictionary_id}/import", response_model=ImportOut, summary="CSV から用語を取り込む (UTF-8 / Shift_JIS)")
def import_csv(
    dictionary_id: int,
    request: Request,
    db: DbSession,
    caller: CurrentCaller,
    file: Annotated[UploadFile, File(description="term,reading,aliases,category の CSV")],
    mode: Annotated[
        Literal["merge", "replace"], Form(description="merge: 追加・更新 / replace: 辞書の中身を置き換える")
    ] = "merge",
) -> ImportOut:
    dictionary = domain.editable_dictionary(db, caller, dictionary_id)
    data = file.file.read(MAX_IMPORT_BYTES + 1)  # one byte more than allowed tells a file too large
    report = domain.import_csv(db, caller, dictionary, data, mode, ip=client_ip(request))
    return ImportOut.of(report)


@router.get(
    "/{dictionary_id}/export",
    summary="CSV に書き出す (UTF-8 BOM 付き、Excel で開けます)",
    response_class=Response,
    responses={200: {"description": "term,reading,aliases,category の CSV", "content": {"text/csv": {}}}},
)
def export_csv(dictionary_id: int, request: Request, db: DbSession, caller: CurrentCaller) -> Response:
    dictionary = domain.readable_dictionary(db, caller, dictionary_id)
    audit(db, "dictionary.export", caller=caller, detail=f"dictionary {dictionary_id}", ip=client_ip(request))
    ascii_name = f"dictionary-{dictionary_id}.csv"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(dictionary.name, safe='')}.csv"
    return Response(
        domain.export_terms(db, dictionary),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )

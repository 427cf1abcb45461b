"""Exports a clerk opens in Excel never run a formula: dictionary CSV, usage CSV and usage xlsx.

A cell starting with = + - @ (or a tab or CR) is what Excel runs; the CSV marks it as text with an
apostrophe, the xlsx stores it as a string cell, and a dictionary exported then imported again
gives back the same terms.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlmodel import Session, select

from dictionaries.terms import Term
from service.dictionaries import stored_terms, to_term
from service.models import Department, Recording, User
from service.spreadsheet_safety import FORMULA_START, restore, safe_cell
from service.usage import new_usage_record
from tests.service.conftest import World

D = "/api/v1/dictionaries"
DANGEROUS = [
    Term('=HYPERLINK("http://evil.example","開く")', "", ("=1+1", "x"), "@SUM(A1)"),
    Term("+81-6-1234", "", (), "-地名"),
    Term("-2+3", "", ("@cmd",), ""),
    Term("@放出", "はなてん", ("花天",), "=分類"),
    Term("'=既に印つき", "", (), ""),  # an apostrophe that is the term's own survives the round trip
    Term("'普通の引用符", "", (), ""),
    Term("放出駅", "はなてんえき", ("=放出駅", "花天駅"), "地名"),
]


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _formula_cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell[:1] in tuple(FORMULA_START)]


@given(st.text(alphabet=st.sampled_from("=+-@\t\r'a放 |"), max_size=8))
def test_marking_is_undone_exactly(value: str) -> None:
    marked = safe_cell(value)
    assert not str(marked).startswith(tuple(FORMULA_START))
    assert restore(marked) == value


def _dictionary_with(world: World, terms: list[Term]) -> int:
    admin = world.client("root_admin")
    created = admin.post(D, json={"name": "危ない用語", "city_wide": True})
    assert created.status_code == 201, created.text
    dictionary_id: int = created.json()["id"]
    for term in terms:
        body = {"term": term.term, "reading": term.reading, "aliases": list(term.aliases), "category": term.category}
        response = admin.post(f"{D}/{dictionary_id}/terms", json=body)
        assert response.status_code in (200, 201), response.text
    return dictionary_id


def test_dictionary_export_has_no_formula_and_imports_back_the_same_terms(world: World) -> None:
    dictionary_id = _dictionary_with(world, DANGEROUS)
    with Session(world.engine) as db:
        stored = [to_term(row) for row in stored_terms(db, dictionary_id)]
    clerk = world.client("clerk_kita")
    exported = clerk.get(f"{D}/{dictionary_id}/export")
    assert exported.status_code == 200
    rows = _cells(exported.content)
    assert _formula_cells(rows) == []
    assert ['\'=HYPERLINK("http://evil.example","開く")', "", "'=1+1|x", "'@SUM(A1)"] in rows
    assert ["''=既に印つき", "", "", ""] in rows and ["'普通の引用符", "", "", ""] in rows

    copy = clerk.post(D, json={"name": "控え"}).json()
    report = clerk.post(f"{D}/{copy['id']}/import", files={"file": ("用語.csv", exported.content, "text/csv")})
    assert report.status_code == 200 and report.json()["added"] == len(stored), report.text
    with Session(world.engine) as db:
        assert [to_term(row) for row in stored_terms(db, copy["id"])] == stored
    # Saved again by Excel, which drops its text mark: the plain values are the same terms too.
    plain = b"term,reading,aliases,category\r\n=1+1,,,\r\n"
    again = clerk.post(f"{D}/{copy['id']}/import", files={"file": ("用語.csv", plain, "text/csv")})
    assert again.status_code == 200 and again.json()["added"] == 1


def _usage_for(world: World, department_name: str) -> None:
    with Session(world.engine) as db:
        user = db.exec(select(User).where(User.name == "clerk_kita")).one()
        department = db.get(Department, user.department_id)
        assert department is not None
        department.name = department_name
        db.add(department)
        recording = Recording(department_id=user.department_id, source="web", kind="meeting", duration_seconds=3600)
        db.add(recording)
        db.flush()
        db.add(new_usage_record(recording, "whisper-base", 600, at=datetime(2026, 4, 15, 1, 0, tzinfo=UTC)))
        db.commit()


def test_usage_exports_keep_a_formula_like_department_name_as_text(world: World) -> None:
    name = '=HYPERLINK("http://evil.example","課")'
    _usage_for(world, name)
    manager = world.client("root_admin")
    params = {"view": "department", "start": "2026-04", "end": "2026-04"}
    book = manager.get("/api/v1/usage/export", params={**params, "format": "xlsx"})
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    cell = sheet["B2"]
    assert cell.value == name and cell.data_type == "s"  # a string, not a formula ("f")
    assert sheet["C2"].data_type == "n"  # numbers stay numbers
    rows = _cells(manager.get("/api/v1/usage/export", params=params).content)
    assert _formula_cells(rows) == [] and rows[1][1] == "'" + name

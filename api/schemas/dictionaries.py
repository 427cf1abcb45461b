"""Answers of the dictionary routes (``api.routes.dictionaries``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from dictionaries.csv_io import RowIssue
from service.dictionaries import ImportReport, to_term
from service.models import Dictionary, DictionaryTerm


class TermOut(BaseModel):
    id: int
    term: str
    reading: str
    aliases: list[str]
    category: str

    @classmethod
    def of(cls, row: DictionaryTerm) -> TermOut:
        assert row.id is not None
        term = to_term(row)
        return cls(id=row.id, term=term.term, reading=term.reading, aliases=list(term.aliases), category=term.category)


class DictionaryOut(BaseModel):
    id: int
    name: str
    city_wide: bool
    department_id: int | None
    department: str  # the department's name; empty for a city-wide dictionary
    term_count: int
    editable: bool  # whether the caller may change it
    created_at: datetime

    @classmethod
    def of(cls, dictionary: Dictionary, names: dict[int | None, str], term_count: int, editable: bool) -> DictionaryOut:
        assert dictionary.id is not None
        department_id = dictionary.department_id
        return cls(
            id=dictionary.id,
            name=dictionary.name,
            city_wide=department_id is None,
            department_id=department_id,
            department=names.get(department_id, "") if department_id is not None else "",
            term_count=term_count,
            editable=editable,
            created_at=dictionary.created_at,
        )


class DictionaryWithTerms(DictionaryOut):
    terms: list[TermOut]


class RowIssueOut(BaseModel):
    row: int  # as Excel numbers it (the header is row 1)
    message: str
    text: str  # "<row>行目: <message>"

    @classmethod
    def of(cls, issue: RowIssue) -> RowIssueOut:
        return cls(row=issue.row, message=issue.message, text=str(issue))


class ImportOut(BaseModel):
    dictionary_id: int
    mode: str
    added: int
    updated: int
    unchanged: int
    removed: int
    skipped: int
    errors: list[RowIssueOut]  # rows skipped
    warnings: list[RowIssueOut]  # rows kept, with a remark

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(
            dictionary_id=report.dictionary_id,
            mode=report.mode,
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            removed=report.removed,
            skipped=len(report.errors),
            errors=[RowIssueOut.of(issue) for issue in report.errors],
            warnings=[RowIssueOut.of(issue) for issue in report.warnings],
        )

"""Cells that Excel (or LibreOffice) shows as text, never runs as a formula.

A spreadsheet reads a CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula: a department named ``=HYPERLINK(…)`` or a dictionary term ``=cmd|…``
would run when a clerk opens the export. Every CSV and xlsx the service writes goes through here.

CSV: such a cell gets a leading apostrophe, Excel's own "this is text" mark, which it hides on
screen. The rule is reversible, so an export imports back to the same values (``restore``): the
apostrophe is added to a cell that starts with any number of apostrophes followed by a trigger,
and one apostrophe is taken off exactly those cells on import. A cell an editor saved again
without the apostrophe (Excel drops the mark) reads as its plain value, which is the original too.

xlsx: cells are typed, so a string cell is never a formula; openpyxl would turn a string starting
with ``=`` into one, so such cells are written as strings explicitly (and marked as quoted text).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

# Characters that make a spreadsheet read a cell as a formula (or as the start of one).
FORMULA_START = "=+-@\t\r"
_NEEDS_MARK = re.compile(rf"^'*[{re.escape(FORMULA_START)}]")
_MARKED = re.compile(rf"^'+[{re.escape(FORMULA_START)}]")


def safe_cell(value: Any) -> Any:
    """A CSV cell that cannot become a formula (non-strings, e.g. numbers, are returned unchanged)."""
    if isinstance(value, str) and _NEEDS_MARK.match(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The cell's value as it was before ``safe_cell`` (other cells are returned unchanged)."""
    return value[1:] if _MARKED.match(value) else value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def csv_bytes(header: Sequence[str], rows: Iterable[Iterable[Any]], encoding: str = "utf-8-sig") -> bytes:
    """A CSV for Excel (CRLF line ends; UTF-8 with the byte-order mark Excel needs by default)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A workbook of one sheet in which every text cell stays text."""
    from openpyxl import Workbook  # only the xlsx exports need it

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for number, row in enumerate([list(header), *(list(r) for r in rows)], start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str) and value.startswith(tuple(FORMULA_START)):
                cell.data_type = "s"  # openpyxl typed it "f" (formula) for a leading "="
                cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()

"""Reading and writing dictionary CSV as clerks keep it in Excel: UTF-8 (with or without BOM) or Shift_JIS.

Every problem is reported with its row number (the header is row 1, as Excel shows it), and
good rows are kept, so one typo does not throw away a dictionary of thousands of terms. Whatever the
bytes, reading raises nothing but :class:`DictionaryFormatError` (the file as a whole is unusable).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dictionaries.terms import Term, fold_in
from dictionaries.text import UNSAFE_CHARACTERS, is_kana, to_hiragana

# Column names accepted for each field: the FORMATS.md English header, or Japanese ones.
_COLUMNS = {
    "term": ("term", "用語", "表記", "単語"),
    "reading": ("reading", "読み", "よみ", "ヨミ", "読み方"),
    "aliases": ("aliases", "誤表記", "別表記", "誤認識"),
    "category": ("category", "分類", "カテゴリ", "区分"),
}
HEADER = ("term", "reading", "aliases", "category")


class DictionaryFormatError(ValueError):
    """The file as a whole cannot be read (encoding, missing header)."""


@dataclass(frozen=True)
class RowIssue:
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.row}行目: {self.message}"


@dataclass
class ParsedDictionary:
    terms: list[Term] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)  # rows skipped
    warnings: list[RowIssue] = field(default_factory=list)  # rows kept, with a remark
    rows: dict[str, int] = field(default_factory=dict)  # each kept term's first row number


def decode_csv_bytes(data: bytes) -> str:
    try:
        if data.startswith(b"\xef\xbb\xbf"):  # a BOM promises UTF-8: no falling back to Shift_JIS
            return data[3:].decode("utf-8")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise DictionaryFormatError(
            "文字コードを判別できません。UTF-8 か Shift_JIS で保存してください "
            "(the file is neither UTF-8 nor Shift_JIS)"
        ) from exc


def _column_map(header: list[str]) -> dict[str, int]:
    normalised = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for key, names in _COLUMNS.items():
        for name in names:
            if name.lower() in normalised:
                found[key] = normalised.index(name.lower())
                break
    if "term" not in found:
        raise DictionaryFormatError(
            "1行目に見出し (term,reading,aliases,category または 用語,読み,誤表記,分類) が必要です "
            "(the first row must be a header with a 'term' column)"
        )
    return found


def _records(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """(row number, cells) per record; cells None for a record the csv module cannot read.

    ``newline=""`` as the csv module asks: line breaks inside quoted cells are kept, and a file
    saved with CR line ends (Excel for Mac) reads as rows instead of failing.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:  # e.g. a cell over the csv module's 128 KB limit; the reader goes on
            values = None
        yield number, values


def parse_csv(text: str) -> ParsedDictionary:
    records = _records(text)
    opening = next(records, None)
    if opening is None:
        raise DictionaryFormatError("ファイルが空です (the file is empty)")
    header = opening[1]
    if header is None:
        raise DictionaryFormatError("1行目の見出しを読み込めません (the header row cannot be read)")
    columns = _column_map(header)
    result = ParsedDictionary()
    seen: dict[str, int] = {}

    def cell(values: list[str], key: str) -> str:
        index = columns.get(key)
        return values[index].strip() if index is not None and index < len(values) else ""

    for number, values in records:
        if values is None:
            result.errors.append(RowIssue(number, "行を読み込めません。セルが長すぎます (the row cannot be read)"))
            continue
        if not any(v.strip() for v in values):
            continue
        control = next((found for v in values if (found := UNSAFE_CHARACTERS.search(v))), None)
        if control is not None:
            code = f"U+{ord(control.group()):04X}"
            result.errors.append(RowIssue(number, f"使えない制御文字 ({code}) が含まれています (control character)"))
            continue
        term = cell(values, "term")
        if not term:
            result.errors.append(RowIssue(number, "用語が空です (term is empty)"))
            continue
        reading = to_hiragana(cell(values, "reading").replace(" ", "").replace("\u3000", ""))
        if reading and not is_kana(reading):
            result.errors.append(
                RowIssue(number, f"読み「{reading}」はひらがなかカタカナで書いてください (reading must be kana)")
            )
            continue
        aliases = tuple(a.strip() for a in cell(values, "aliases").split("|") if a.strip() and a.strip() != term)
        if term in seen:
            first = seen[term]
            result.terms[first] = fold_in(result.terms[first], Term(term, reading, aliases, cell(values, "category")))
            result.warnings.append(
                RowIssue(number, f"「{term}」は重複しています。最初の行にまとめました (duplicate, merged)")
            )
            continue
        seen[term] = len(result.terms)
        result.rows[term] = number
        result.terms.append(Term(term, reading, aliases, cell(values, "category")))
    return result


def parse_csv_bytes(data: bytes) -> ParsedDictionary:
    """The file's bytes as uploaded: decoded (UTF-8 with or without BOM, or Shift_JIS), then parsed."""
    return parse_csv(decode_csv_bytes(data))


def read_csv(path: str | Path) -> ParsedDictionary:
    return parse_csv_bytes(Path(path).read_bytes())


def write_csv(terms: list[Term], encoding: str = "utf-8-sig") -> bytes:
    """CSV bytes for Excel: UTF-8 with BOM by default, or ``cp932`` (Shift_JIS)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for term in terms:
        writer.writerow([term.term, term.reading, "|".join(term.aliases), term.category])
    return out.getvalue().encode(encoding)

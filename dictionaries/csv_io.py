"""Reading and writing dictionary CSV as clerks keep it in Excel: UTF-8 (with or without BOM) or Shift_JIS.

Every problem is reported with its row number (the header is row 1, as Excel shows it), and
good rows are kept, so one typo does not throw away a dictionary of thousands of terms.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from dictionaries.terms import Term, is_kana, to_hiragana

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


def decode_csv_bytes(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
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


def parse_csv(text: str) -> ParsedDictionary:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DictionaryFormatError("ファイルが空です (the file is empty)")
    columns = _column_map(rows[0])
    result = ParsedDictionary()
    seen: dict[str, int] = {}

    def cell(values: list[str], key: str) -> str:
        index = columns.get(key)
        return values[index].strip() if index is not None and index < len(values) else ""

    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
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
            earlier = result.terms[first]
            merged = tuple(dict.fromkeys(earlier.aliases + aliases))
            result.terms[first] = Term(
                term, earlier.reading or reading, merged, earlier.category or cell(values, "category")
            )
            result.warnings.append(
                RowIssue(number, f"「{term}」は重複しています。最初の行にまとめました (duplicate, merged)")
            )
            continue
        seen[term] = len(result.terms)
        result.terms.append(Term(term, reading, aliases, cell(values, "category")))
    return result


def read_csv(path: str | Path) -> ParsedDictionary:
    return parse_csv(decode_csv_bytes(Path(path).read_bytes()))


def write_csv(terms: list[Term], encoding: str = "utf-8-sig") -> bytes:
    """CSV bytes for Excel: UTF-8 with BOM by default, or ``cp932`` (Shift_JIS)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for term in terms:
        writer.writerow([term.term, term.reading, "|".join(term.aliases), term.category])
    return out.getvalue().encode(encoding)

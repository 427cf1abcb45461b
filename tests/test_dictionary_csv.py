"""Dictionary CSV as clerks keep it in Excel: encodings, bad rows by number, duplicates, export."""

from __future__ import annotations

import pytest

from dictionaries.csv_io import DictionaryFormatError, decode_csv_bytes, parse_csv, write_csv
from dictionaries.terms import Term

SAMPLE = "term,reading,aliases,category\n放出,はなてん,花天|はなてん,地名\nデジタル統括室,デジタルトウカツシツ,,部署\n"


def _parse(data: bytes):  # type: ignore[no-untyped-def]
    return parse_csv(decode_csv_bytes(data))


def test_utf8_with_and_without_bom_and_shift_jis_read_the_same() -> None:
    expected = _parse(SAMPLE.encode("utf-8")).terms
    assert _parse(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8")).terms == expected
    assert _parse(SAMPLE.encode("cp932")).terms == expected
    assert expected[0] == Term("放出", "はなてん", ("花天", "はなてん"), "地名")
    assert expected[1].reading == "でじたるとうかつしつ"  # katakana readings are stored as hiragana


def test_japanese_headers_and_half_width_kana_readings() -> None:
    parsed = _parse("用語,読み,誤表記,分類\n十三,ｼﾞｭｳｿｳ,じゅうさん,地名\n".encode("cp932"))
    assert parsed.terms == [Term("十三", "じゅうそう", ("じゅうさん",), "地名")]


def test_bad_rows_are_reported_by_excel_row_number_and_good_rows_kept() -> None:
    text = (
        "term,reading,aliases,category\n杭全,くまた,,地名\n,よみだけ,,\n"
        "喜連瓜破,kireuriwari,,地名\n巽,たつみ,辰巳,地名\n"
    )
    parsed = parse_csv(text)
    assert [t.term for t in parsed.terms] == ["杭全", "巽"]
    assert [(e.row, "用語が空" in e.message) for e in parsed.errors] == [(3, True), (4, False)]
    assert "4行目" in str(parsed.errors[1]) and "kireuriwari" in str(parsed.errors[1])


def test_duplicates_are_merged_with_a_warning() -> None:
    parsed = parse_csv("term,reading,aliases\n鴫野,しぎの,しぎ野\n鴫野,,鴨野\n")
    assert parsed.terms == [Term("鴫野", "しぎの", ("しぎ野", "鴨野"), "")]
    assert parsed.warnings[0].row == 3


def test_empty_readings_are_allowed() -> None:
    parsed = parse_csv("term,reading\n区政会議,\n")
    assert parsed.terms == [Term("区政会議")] and parsed.errors == []


def test_blank_lines_are_skipped_and_missing_header_is_refused() -> None:
    assert len(parse_csv("term\n\n放出\n,\n").terms) == 1
    with pytest.raises(DictionaryFormatError, match="見出し"):
        parse_csv("放出,はなてん\n")
    with pytest.raises(DictionaryFormatError):
        decode_csv_bytes(b"\xff\xfe\x00\xd8garbage\x81")


def test_export_round_trips_in_both_encodings() -> None:
    terms = [Term("放出", "はなてん", ("花天",), "地名"), Term("住之江区", "すみのえく", (), "区")]
    for encoding in ("utf-8-sig", "cp932"):
        data = write_csv(terms, encoding)
        assert _parse(data).terms == terms
    assert write_csv(terms).startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 only with a BOM


def test_the_city_dictionary_ships_and_reads_cleanly() -> None:
    from dictionaries.builtin import CITY_DICTIONARY, city_terms
    from dictionaries.csv_io import read_csv

    parsed = read_csv(CITY_DICTIONARY)
    assert parsed.errors == [] and parsed.warnings == []
    wards = [t for t in city_terms() if t.category == "区"]
    assert len(wards) == 24 and all(t.reading.endswith("く") for t in wards)
    assert {"放出", "十三", "喜連瓜破"} <= {t.term for t in city_terms()}

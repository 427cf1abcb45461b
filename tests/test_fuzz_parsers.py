"""Fuzzing the parsers that face users (issue 9, hardening), with hypothesis.

- Dictionary CSV (``dictionaries.csv_io``): any bytes, CSV-ish text in UTF-8 / Shift_JIS with and
  without BOM, odd quoting, huge cells, NULs. Reading raises nothing but ``DictionaryFormatError``,
  and bad rows are reported by their row number (an oracle checks the numbers exactly).
- If-Match values (``service.minutes.parse_etag``).
- The minutes JSON through ``PUT /api/v1/recordings/{id}/minutes``: random JSON, NaN/inf, negative and
  huge times, deep nesting, control characters. Refused with 422 and a Japanese message, never 500,
  and a refused save stores nothing.
- The upload metadata of ``POST /api/v1/recordings``: titles with control characters, RTL marks,
  emoji or too long, random kinds, ``held_at`` strings, speakers, dictionary ids, and file names with
  ``../``, backslashes and NULs. Never 500; what is stored is clean and the file has a server name.

- The tus headers of device uploads (``api.tus``: ``Upload-Length``, ``Upload-Offset``,
  ``Upload-Metadata`` and the recording's metadata in it), as functions and through
  ``POST|PATCH|HEAD /api/v1/uploads``. Skipped, with the reason, where ``api/tus.py`` is absent.

Every test is time-bounded (a fixed number of examples, about 10 s at most) and derandomized, so CI
runs the same examples every time. The API tests run on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from dictionaries.csv_io import (
    DictionaryFormatError,
    ParsedDictionary,
    decode_csv_bytes,
    parse_csv,
    parse_csv_bytes,
)
from dictionaries.terms import is_kana
from service.minutes import Minutes, etag, parse_etag
from service.models import Recording
from tests.service import conftest as service
from tests.service.conftest import World
from tests.service.hardening import (
    JAPANESE,
    SERVER_NAME,
    counts,
    finish,
    multipart,
    revisions_of,
    stored_files,
    tiny_wav,
    transcript_body,
)

# The service fixtures (a fresh database per backend, storage, logged-in clients) for the API fuzzing.
backend, service_env, engine, world = service.backend, service.service_env, service.engine, service.world


def fuzz(examples: int) -> settings:
    """A fixed number of examples, no per-example deadline, the same examples on every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


UNSAFE = {chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xFFFE, 0xFFFF]}


def _has_unsafe(text: str) -> bool:
    return any(ch in UNSAFE or "\ud800" <= ch <= "\udfff" for ch in text)


# --- dictionary CSV -------------------------------------------------------------------------------

HEADERS = ["term,reading,aliases,category", "用語,読み,誤表記,分類", "term", "reading,term", "Term , Reading", "x,y"]
CELL_ALPHABET = "放出花天十三杭全区役所あいうアイウｼﾞｭabcXYZ 09,\"'|\t\r\n\x00\x01\x1f\x7f\u3000\ufeff\u202e\U0001f600"
HUGE = st.builds(
    lambda ch, n: ch * n, st.sampled_from(["あ", "a", '"', "\n", "\x00"]), st.sampled_from([2000, 140_000])
)
CELLS = st.one_of(
    st.text(alphabet=CELL_ALPHABET, max_size=12),
    st.sampled_from(["", " ", "はなてん", "ハナテン", "kireuriwari", '"', '""', '"a"b"', "a|b|", "\ufeffterm"]),
    HUGE,
)


def _excel_cell(cell: str) -> str:
    """As Excel writes a cell: quoted when it holds a comma, a quote or a line break of any kind."""
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\r\n') else cell


def _render(rows: list[list[str]], quoting: str, terminator: str) -> str:
    if quoting == "naive":  # whatever a hand-edited file may hold: quotes where they fall
        return "".join(",".join(row) + terminator for row in rows)
    if quoting == "excel":
        return "".join(",".join(_excel_cell(c) for c in row) + terminator for row in rows)
    out = io.StringIO()
    if quoting == "all":
        csv.writer(out, lineterminator=terminator, quoting=csv.QUOTE_ALL).writerows(rows)
    else:
        csv.writer(out, lineterminator=terminator).writerows(rows)
    return out.getvalue()


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "cp932":
        return text.encode("cp932", errors="replace")
    return text.encode(encoding, errors="surrogatepass")


def _check_parsed(parsed: ParsedDictionary, text: str) -> None:
    """What a caller may rely on, whatever the input."""
    assert isinstance(parsed, ParsedDictionary)
    last_row = text.count("\n") + text.count("\r") + 2  # no record can be numbered beyond the lines
    issues = parsed.errors + parsed.warnings
    for issue in issues:
        assert 2 <= issue.row <= last_row, issue
        assert str(issue).startswith(f"{issue.row}行目: ") and JAPANESE.search(issue.message)
    assert len({issue.row for issue in parsed.errors}) == len(parsed.errors), "one error per row"
    assert set(parsed.rows) == {t.term for t in parsed.terms} and len(parsed.rows) == len(parsed.terms)
    assert not {issue.row for issue in parsed.errors} & set(parsed.rows.values())
    for term in parsed.terms:
        assert term.term and term.term == term.term.strip()
        assert 2 <= parsed.rows[term.term] <= last_row
        assert term.reading == "" or is_kana(term.reading)
        assert term.term not in term.aliases
        for value in (term.term, term.reading, term.category, *term.aliases):
            assert not _has_unsafe(value), term


def _parse_bytes(data: bytes) -> ParsedDictionary | None:
    """parse_csv_bytes, checked; None where the file as a whole is refused (the documented error)."""
    try:
        text = decode_csv_bytes(data)
    except DictionaryFormatError as error:
        assert JAPANESE.search(str(error))
        with pytest.raises(DictionaryFormatError):
            parse_csv_bytes(data)
        return None
    try:
        parsed = parse_csv_bytes(data)
    except DictionaryFormatError as error:
        assert JAPANESE.search(str(error))
        return None
    _check_parsed(parsed, text)
    return parsed


PREFIXES = [b"", b"\xef\xbb\xbf", b"term,reading\n", "用語,読み\r\n".encode("cp932"), b"\xef\xbb\xbfterm\n"]


@fuzz(400)
@given(st.sampled_from(PREFIXES), st.binary(max_size=600))
@example(b"\xef\xbb\xbfterm\n", b"\xff\xfe broken after a BOM")
@example(b"term\n", b'"' + b"a" * 140_000 + b'"\n\xe6\x94\xbe\xe5\x87\xba\n')
@example(b"term\n", b"a\rb\rc\r")
@example(b"", b"\x00\x00\x00")
def test_csv_bytes_raise_nothing_but_the_format_error(prefix: bytes, data: bytes) -> None:
    _parse_bytes(prefix + data)


@fuzz(300)
@given(
    header=st.one_of(st.sampled_from(HEADERS), st.lists(CELLS, max_size=4).map(",".join)),
    rows=st.lists(st.lists(CELLS, max_size=6), max_size=12),
    quoting=st.sampled_from(["minimal", "all", "naive", "excel"]),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16"]),
)
def test_csv_like_text_in_every_encoding(
    header: str, rows: list[list[str]], quoting: str, terminator: str, encoding: str
) -> None:
    text = header + terminator + _render(rows, quoting, terminator)
    parsed = _parse_bytes(_encode(text, encoding))
    if parsed is not None and encoding in ("utf-8", "utf-8-sig"):
        assert len(parsed.terms) + len(parsed.errors) <= len(rows) + text.count("\r") + text.count("\n")


GOOD_TERM = st.text(alphabet="放出花天杭全十三巽鴫野区役所課福祉", min_size=1, max_size=5)
ROW_KINDS = ["good", "good", "empty term", "latin reading", "control", "nul alias", "blank"]


@fuzz(250)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(ROW_KINDS),
            GOOD_TERM,
            st.sampled_from(["", "はなてん", "クマタ", "ｼﾞｭｳｿｳ"]),
            st.sampled_from(["", "花天", "花天|はなてん", "a,b", 'say "x"']),
            st.sampled_from(["", "地名", "地\n名", "区,課", '"区"', "地\r\n名"]),
        ),
        max_size=25,
    ),
    japanese_header=st.booleans(),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
)
def test_bad_rows_are_reported_by_their_exact_row_number(
    rows: list[tuple[str, str, str, str, str]], japanese_header: bool, terminator: str, encoding: str
) -> None:
    """An oracle: rows written by Excel-like quoting (line breaks inside cells included), each good or bad."""
    header = ["用語", "読み", "誤表記", "分類"] if japanese_header else ["term", "reading", "aliases", "category"]
    table: list[list[str]] = [header]
    good: list[str] = []
    bad_rows: list[int] = []
    for index, (kind, base, reading, aliases, category) in enumerate(rows):
        number = index + 2  # the header is row 1
        term = f"{base}{index}"
        cells = {
            "good": [term, reading, aliases, category],
            "empty term": [" ", "よみ", aliases, category],
            "latin reading": [term, "kumata", aliases, category],
            "control": [term, reading, aliases, category + "\x01"],
            "nul alias": [term, reading, "\x00" + aliases, category],
            "blank": ["", " ", "", "\u3000"],
        }[kind]
        table.append(cells)
        if kind == "good":
            good.append(term)
        elif kind != "blank":
            bad_rows.append(number)
    parsed = _parse_bytes(_encode(_render(table, "excel", terminator), encoding))
    assert parsed is not None
    assert [t.term for t in parsed.terms] == good
    assert [issue.row for issue in parsed.errors] == bad_rows
    assert parsed.warnings == []
    assert [parsed.rows[t] for t in good] == [i + 2 for i, row in enumerate(rows) if row[0] == "good"]


def test_a_cell_over_the_csv_limit_is_one_bad_row() -> None:
    text = 'term,reading\n杭全,くまた\n"' + "長" * 140_000 + '",\n巽,たつみ\n'
    parsed = parse_csv(text)
    assert [t.term for t in parsed.terms] == ["杭全", "巽"]
    assert [issue.row for issue in parsed.errors] == [3] and "3行目" in str(parsed.errors[0])


def test_mac_line_ends_and_bom_with_broken_utf8() -> None:
    assert [t.term for t in parse_csv_bytes(b"term\rabc\rdef\r").terms] == ["abc", "def"]
    with pytest.raises(DictionaryFormatError, match="文字コード"):
        parse_csv_bytes(b"\xef\xbb\xbfterm\n\x82\xa0")  # a BOM, then Shift_JIS: refused, not a crash


@pytest.fixture
def dictionary_of_clerk(world: World) -> tuple[Any, int]:
    clerk = world.client("clerk_kita")
    made = clerk.post("/api/v1/dictionaries", json={"name": "北区 用語"})
    assert made.status_code == 201, made.text
    return clerk, int(made.json()["id"])


@fuzz(50)
@given(
    header=st.sampled_from(HEADERS),
    rows=st.lists(st.lists(CELLS, max_size=5), max_size=8),
    quoting=st.sampled_from(["minimal", "naive", "excel"]),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
    mode=st.sampled_from(["merge", "replace"]),
)
@example(
    header=HEADERS[0], rows=[["放出\x00"], ["巽"]], quoting="excel", terminator="\n", encoding="utf-8", mode="merge"
)
@example(
    header=HEADERS[0], rows=[["長" * 140_000], ["巽"]], quoting="excel", terminator="\n", encoding="utf-8", mode="merge"
)
@example(header=HEADERS[0], rows=[["放出"], ["巽"]], quoting="naive", terminator="\r", encoding="cp932", mode="merge")
def test_csv_import_through_the_api(
    dictionary_of_clerk: tuple[Any, int],
    header: str,
    rows: list[list[str]],
    quoting: str,
    terminator: str,
    encoding: str,
    mode: str,
) -> None:
    """The dictionary import: 200 with bad rows listed by number, or a refusal in Japanese; never 500."""
    clerk, dictionary_id = dictionary_of_clerk
    data = _encode(header + terminator + _render(rows, quoting, terminator), encoding)
    response = clerk.post(
        f"/api/v1/dictionaries/{dictionary_id}/import",
        files={"file": ("用語.csv", data, "text/csv")},
        data={"mode": mode},
    )
    assert response.status_code in (200, 413, 422), response.text[:300]
    if response.status_code != 200:
        assert JAPANESE.search(response.json()["detail"]), response.text[:300]
        return
    report = response.json()
    for issue in report["errors"] + report["warnings"]:
        assert isinstance(issue["row"], int) and issue["text"].startswith(f"{issue['row']}行目") and issue["row"] >= 2
    stored = clerk.get(f"/api/v1/dictionaries/{dictionary_id}").json()["terms"]
    for term in stored:
        for value in (term["term"], term["reading"], term["category"], *term["aliases"]):
            assert not _has_unsafe(value), term
    exported = clerk.get(f"/api/v1/dictionaries/{dictionary_id}/export")
    assert exported.status_code == 200
    assert [t.term for t in parse_csv_bytes(exported.content).terms] == [t["term"] for t in stored]


def test_terms_with_control_characters_are_refused(dictionary_of_clerk: tuple[Any, int]) -> None:
    clerk, dictionary_id = dictionary_of_clerk
    for body in (
        {"term": "放出\x00"},
        {"term": "放出", "category": "地\x01名"},
        {"term": "放出", "aliases": ["花\x7f天"]},
    ):
        refused = clerk.post(f"/api/v1/dictionaries/{dictionary_id}/terms", json=body)
        assert refused.status_code == 422 and "使えない文字" in refused.json()["detail"], refused.text
    refused = clerk.post("/api/v1/dictionaries", json={"name": "辞書\x00"})
    assert refused.status_code == 422 and JAPANESE.search(refused.json()["detail"])


# --- If-Match -------------------------------------------------------------------------------------


@fuzz(500)
@given(st.one_of(st.text(max_size=30), st.from_regex(r'\A(W/)?"?r[0-9\u00b2\u0661\uff11]{0,12}"?\Z')))
@example('"r²"')
@example("r" + "9" * 5000)
@example("r١٢")
def test_if_match_values_never_raise(value: str) -> None:
    revision = parse_etag(value)
    assert revision is None or (isinstance(revision, int) and 0 <= revision < 10**9)
    if revision is not None:
        assert value.strip().lstrip('W/"').startswith(f"r{revision}") or str(revision) in value


@fuzz(200)
@given(st.integers(min_value=0, max_value=10**9 - 1), st.sampled_from(["{}", "W/{}", " {} "]))
def test_every_etag_the_service_sends_reads_back(number: int, form: str) -> None:
    assert parse_etag(form.format(etag(number))) == number


# --- minutes JSON through the API -----------------------------------------------------------------

WEIRD_TEXT = st.text(
    alphabet=st.sampled_from(
        ["あ", "議", "a", " ", "\n", "\t", "\x00", "\x01", "\x7f", "\u202e", "\u200b", "😀", "\ufffe"]
    ),
    max_size=12,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    WEIRD_TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=16,
)
SPECIAL_TIMES = [math.nan, math.inf, -math.inf, -1.0, -1e-9, 0.0, 1e308, 1e20, 5e-324, 604800.0, 604801.0]
# Places in a valid minutes body to put something else.
PATHS: list[tuple[str | int, ...]] = [
    (),
    ("header",),
    ("header", "title"),
    ("header", "agenda"),
    ("transcript",),
    ("transcript", "duration"),
    ("transcript", "schema"),
    ("transcript", "segments"),
    ("transcript", "segments", 0),
    ("transcript", "segments", 0, "start"),
    ("transcript", "segments", 0, "end"),
    ("transcript", "segments", 0, "text"),
    ("transcript", "segments", 0, "speaker"),
    ("transcript", "segments", 0, "words"),
    ("transcript", "segments", 0, "words", 0, "start"),
    ("transcript", "segments", 0, "words", 0, "confidence"),
    ("transcript", "segments", 1, "end"),
    ("transcript", "speakers"),
    ("transcript", "speakers", 0, "name"),
    ("transcript", "corrections"),
    ("transcript", "turns"),
]
TIME_PATHS = [p for p in PATHS if p and p[-1] in ("duration", "start", "end", "confidence")]
TEXT_PATHS = [p for p in PATHS if p and p[-1] in ("title", "agenda", "text", "speaker", "name")]
RAW_BODIES = [
    b"[" * 100_000,
    b'{"a":' * 50_000,
    b'{"header": {}, "transcript": ' * 3000,
    b"NaN",
    b"",
    b"{",
    b"null",
    b'"minutes"',
    b"\xff\xfe{}",
    b'{"header": {"title": "\\ud800"}, "transcript": {"duration": 1}}',
    b'{"header": {}, "transcript": {"duration": 1e999}}',
    b'{"header": {}, "transcript": {"duration": -Infinity}}',
    b'{"header": {}, "transcript": {"duration": 1, "segments": [{"start": 0, "end": NaN, "text": ""}]}}',
    b'{"header": {}, "transcript": {"duration": ' + b"9" * 5000 + b"}}",
]


def _replace(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict) and isinstance(head, str):
        return {**body, head: _replace(body.get(head), rest, value)}
    if isinstance(body, list) and isinstance(head, int) and head < len(body):
        return [*body[:head], _replace(body[head], rest, value), *body[head + 1 :]]
    return body


def _minutes_bodies() -> st.SearchStrategy[bytes]:
    base = {"revision": 0, "header": {"title": "予算説明会", "held_at": ""}, "transcript": transcript_body()}

    def dumps(value: Any, ascii_only: bool) -> bytes:
        return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", errors="surrogatepass")

    mutated = st.builds(lambda path, value: _replace(base, path, value), st.sampled_from(PATHS), JSON_VALUES)
    times = st.builds(
        lambda path, value: _replace(base, path, value), st.sampled_from(TIME_PATHS), st.sampled_from(SPECIAL_TIMES)
    )
    texts = st.builds(
        lambda path, value: _replace(base, path, value),
        st.sampled_from(TEXT_PATHS),
        st.one_of(WEIRD_TEXT, st.sampled_from(["\ud800", "a\udfffb", "議" * 20_000, "\u202e反転", ""])),
    )
    structured = st.one_of(st.just(base), mutated, times, texts, JSON_VALUES)
    return st.one_of(
        st.builds(dumps, structured, st.booleans()),
        st.sampled_from(RAW_BODIES),
        st.binary(max_size=64),
    )


IF_MATCH = st.one_of(
    st.just("current"),
    st.just("current"),
    st.just("absent"),
    st.sampled_from(['W/"r0"', '"r²"', "r" + "9" * 5000, "*", '"r0", "r1"', "", " ", '"r-1"', "\xe9", "r١"]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=12),
)


@pytest.fixture
def minutes_target(world: World) -> tuple[Any, int]:
    """A clerk and one of their recordings with a finished transcript."""
    clerk = world.client("clerk_kita")
    created = clerk.post(
        "/api/v1/recordings", files={"file": ("会議.wav", tiny_wav(), "audio/wav")}, data={"kind": "meeting"}
    )
    assert created.status_code == 201, created.text
    recording_id = int(created.json()["id"])
    finish(world.engine, recording_id)
    return clerk, recording_id


def _edited(path: tuple[str | int, ...], value: Any) -> bytes:
    """The stored minutes with one value changed, as JSON (NaN and Infinity written as JavaScript does)."""
    base = {"header": {"title": "予算説明会"}, "transcript": transcript_body()}
    return json.dumps(_replace(base, path, value), ensure_ascii=True, allow_nan=True).encode()


@fuzz(80)
@given(raw=_minutes_bodies(), if_match=IF_MATCH)
@example(raw=b"NaN", if_match="current")  # the 422 echoed NaN back: a JSON response cannot hold it
@example(raw=b"[" * 100_000, if_match="current")  # FastAPI's English 400
@example(raw=_edited(("transcript", "duration"), math.inf), if_match="current")  # stored as null
@example(raw=_edited(("transcript", "segments", 0, "end"), 1e308), if_match="current")  # srt export overflowed
@example(raw=_edited(("header", "title"), "a\x01b"), if_match="current")  # docx export refused it
@example(raw=_edited(("transcript", "segments", 0, "text"), "\x00"), if_match="current")  # PostgreSQL refuses NUL
@example(raw=_edited(("header", "title"), "\ud800"), if_match="current")  # UTF-8 cannot encode it
@example(raw=_edited((), {"transcript": transcript_body()}), if_match='"r\u00b2"')  # int("²") raised
def test_put_minutes_refuses_bad_json_with_422_and_stores_nothing(
    world: World, minutes_target: tuple[Any, int], raw: bytes, if_match: str
) -> None:
    clerk, recording_id = minutes_target
    path = f"/api/v1/recordings/{recording_id}/minutes"
    before = revisions_of(world.engine, recording_id)
    headers = {"Content-Type": "application/json"}
    if if_match == "current":
        headers["If-Match"] = etag(len(before))
    elif if_match != "absent":
        headers["If-Match"] = if_match
    # Header values as raw bytes (what a client may send); a 500 raises here (the test client re-raises).
    response = clerk.put(path, content=raw, headers={k: v.encode("utf-8") for k, v in headers.items()})
    assert response.status_code in (200, 409, 413, 422, 428), response.text[:300]
    after = revisions_of(world.engine, recording_id)
    if response.status_code != 200:
        assert JAPANESE.search(response.json()["detail"]), response.text[:300]
        assert len(after) == len(before), "a refused save stored a revision"
        return
    assert len(after) == len(before) + 1 and response.headers["ETag"] == etag(len(after))
    stored = Minutes.model_validate(after[-1].body)  # what was stored reads back as minutes
    assert math.isfinite(stored.transcript.duration)
    for fmt in ("txt", "docx", "srt"):
        exported = clerk.get(f"/api/v1/recordings/{recording_id}/export", params={"format": fmt})
        assert exported.status_code == 200, (fmt, exported.text[:200])


# --- upload metadata ------------------------------------------------------------------------------

TITLES = st.one_of(
    WEIRD_TEXT,
    st.text(max_size=20),
    st.sampled_from(["\u202egnp.exe", "定例会議 😀", "a\r\nX-Injected: 1", "議" * 300, "議" * 301, "<script>", ""]),
)
HELD_AT = st.one_of(
    st.sampled_from(
        [
            "2025-04-01T10:00:00",  # what a browser's datetime-local field sends: no zone
            "2025-04-01T10:00:00+09:00",
            "2025-04-01T10:00",
            "2025-04-01",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "1e20",
            "-1",
            "now",
            "2025-13-45T99:99",
            "２０２５-04-01",
            "1743465600",
        ]
    ),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.text(max_size=12),
)
NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=30).map(str),
    st.sampled_from(["99999999999999999999999", "1e3", "", " 3", "三", "0x10", "2147483648"]),
    st.text(max_size=4),
)
FILENAMES = st.one_of(
    st.sampled_from(
        [
            b"../../etc/passwd.wav",
            b"..\\..\\windows\\win.ini.wav",
            b"/etc/passwd",
            b"a\x00.wav",
            b"\x00",
            "C:\\Users\\tanaka\\Desktop\\会議.wav".encode(),
            b"",
            b".",
            b"..",
            b"a" * 1000 + b".wav",
            b"\xff\xfe.wav",
            b".wav",
            b"rec.WAV\x00.php",
            "\u202ewav.exe".encode(),
            b"%2e%2e%2fetc.wav",
        ]
    ),
    st.binary(max_size=30).filter(lambda b: b'"' not in b and b"\r" not in b and b"\n" not in b),
    st.text(max_size=20).map(lambda t: t.replace('"', "").replace("\r", "").replace("\n", "").encode()),
)
FIELD = st.one_of(st.text(max_size=30), WEIRD_TEXT)
# Each form field: a strategy for odd values, and what a well-behaved client sends (None: not sent).
ODD: dict[str, st.SearchStrategy[bytes | None]] = {
    "title": st.one_of(TITLES.map(str.encode), st.binary(max_size=12)),
    "kind": st.one_of(st.text(max_size=8).map(str.encode), st.sampled_from([b"MEETING", b"", b"meeting\x00"])),
    "held_at": HELD_AT.map(str.encode),
    "speakers": NUMBERS.map(str.encode),
    "dictionary": NUMBERS.map(str.encode),
    "place": FIELD.map(str.encode),
    "attendees": st.one_of(FIELD.map(str.encode), st.just("田中\n佐藤".encode() * 200)),
}
WELL_BEHAVED: dict[str, bytes | None] = {"title": "定例会議".encode(), "kind": b"meeting", "held_at": None}


@st.composite
def upload_forms(draw: st.DrawFn) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """A well-behaved form with one to three fields (or the file's name) made odd."""
    form = dict(WELL_BEHAVED)
    odd = draw(st.sets(st.sampled_from([*ODD, "filename"]), min_size=1, max_size=3))
    for name in sorted(odd - {"filename"}):
        form[name] = draw(st.one_of(st.none(), ODD[name]))
    filename = draw(st.one_of(st.none(), FILENAMES)) if "filename" in odd else "会議.wav".encode()
    fields = [(name.encode(), value) for name, value in form.items() if value is not None]
    return fields, filename


@pytest.fixture
def clerk(world: World) -> Any:
    """One login for every example of a test."""
    return world.client("clerk_kita")


@fuzz(80)
@given(upload_forms())
@example(([(b"kind", b"meeting"), (b"held_at", b"2025-04-01T10:00:00")], b"a.wav"))  # a browser's local time
@example(([(b"kind", b"meeting"), (b"held_at", b"0001-01-01T00:00:00+14:00")], b"a.wav"))
@example(([(b"kind", b"meeting"), (b"title", b"a\x00b")], b"a.wav"))
@example(([(b"kind", b"meeting"), (b"dictionary", b"99999999999999999999")], b"a.wav"))
@example(([(b"kind", b"meeting"), (b"dictionary", b"2147483648")], b"a.wav"))
@example(([(b"kind", b"meeting")], b"a\x00.wav"))
@example(([(b"kind", b"meeting")], "議".encode() * 400 + b".wav"))  # the default title is the name's stem
def test_upload_metadata_never_breaks_the_service(
    world: World, service_env: dict[str, str], clerk: Any, form: tuple[list[tuple[bytes, bytes]], bytes | None]
) -> None:
    fields, filename = form
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    body, content_type = multipart(fields, filename, tiny_wav())
    before_files, before_counts = stored_files(storage), counts(world.engine)

    response = clerk.post("/api/v1/recordings", content=body, headers={"Content-Type": content_type})
    assert response.status_code in (201, 400, 413, 415, 422), response.text[:300]
    files = stored_files(storage)
    assert files["uploads"] == [], "a partial upload was left behind"
    if response.status_code != 201:
        if response.status_code != 400:  # 400: multipart the parser refuses (Starlette's own message)
            assert JAPANESE.search(response.json()["detail"]), response.text[:300]
        assert files == before_files and counts(world.engine) == before_counts
        return

    created = response.json()
    new_files = sorted(set(files["audio"]) - set(before_files["audio"]))
    assert len(new_files) == 1 and SERVER_NAME.match(new_files[0]), new_files
    with Session(world.engine) as db:
        recording = db.get(Recording, created["id"])
        assert recording is not None and recording.audio_path == f"audio/{new_files[0]}"
    for value in (created["title"], created["place"], created["attendees"], created["original_filename"]):
        assert not _has_unsafe(value), created
    assert "/" not in created["original_filename"] and "\\" not in created["original_filename"]
    assert 0 < len(created["title"]) <= 300 and 0 < len(created["original_filename"]) <= 300
    if created["held_at"] is not None:
        assert created["held_at"].endswith(("Z", "+00:00")), created["held_at"]  # stored as aware UTC
    assert clerk.get(f"/api/v1/recordings/{created['id']}").status_code == 200
    finish(world.engine, created["id"])
    exported = clerk.get(f"/api/v1/recordings/{created['id']}/export", params={"format": "docx"})
    assert exported.status_code == 200, exported.text[:200]


# --- tus headers (device uploads) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tus() -> Any:
    return pytest.importorskip("api.tus", reason="the tus endpoint (api/tus.py) is not there yet")


def _refused(error: Exception, status: int) -> None:
    """The documented refusal: an ServiceError with the given status and a Japanese message."""
    from service.errors import ServiceError

    assert isinstance(error, ServiceError), repr(error)
    assert error.status == status and JAPANESE.search(error.message), (error.status, error.message)


NUMBER_TEXT = st.one_of(
    st.integers(min_value=0, max_value=10**25).map(str),
    st.sampled_from(["", " ", "-1", "+1", "1e3", "0x10", "1.0", " 12 ", "²", "١٢", "１２", "9" * 5000, "1\x00"]),
    st.text(max_size=8),
)


@fuzz(400)
@given(value=NUMBER_TEXT)
def test_tus_number_headers(tus: Any, value: str) -> None:
    for name in ("Upload-Length", "Upload-Offset"):
        try:
            number = tus.number_header({name: value}, name)
        except Exception as error:
            _refused(error, 400)
            continue
        assert isinstance(number, int) and 0 <= number < 10**19 and number == int(value.strip())


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-.0123456789", min_size=1, max_size=12)
METADATA_HEADERS = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.tuples(st.one_of(TOKEN, st.text(max_size=6)), st.one_of(st.binary(max_size=20), st.text(max_size=8))),
        max_size=6,
    ).map(
        lambda pairs: ",".join(
            f"{k} {base64.b64encode(v).decode() if isinstance(v, bytes) else v}".rstrip() for k, v in pairs
        )
    ),
    st.sampled_from(["filename", "filename ", ",", " , ", "a b c", "a ====", "a !!!!", "a,a", "a 44GG", "é 4pyU"]),
    st.builds(lambda n: ",".join(f"k{i} YQ==" for i in range(n)), st.sampled_from([32, 33, 5000])),
)


@fuzz(400)
@given(header=METADATA_HEADERS)
def test_tus_metadata_header(tus: Any, header: str) -> None:
    try:
        pairs = tus.parse_metadata(header)
    except Exception as error:
        _refused(error, 400)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs.items())
    assert tus.parse_metadata(tus.encode_metadata(pairs)) == pairs


@fuzz(300)
@given(pairs=st.dictionaries(TOKEN, st.text(max_size=40), max_size=32))
def test_tus_metadata_round_trips(tus: Any, pairs: dict[str, str]) -> None:
    assert tus.parse_metadata(tus.encode_metadata(pairs)) == pairs


META_VALUES = {
    "filename": FILENAMES.map(lambda b: b.decode("utf-8", errors="replace")),
    "name": st.text(max_size=10),
    "title": TITLES,
    "kind": st.one_of(st.sampled_from(["meeting", "phone", "", "MEETING"]), st.text(max_size=6)),
    "held_at": HELD_AT,
    "speakers": NUMBERS,
    "recording_id": st.one_of(st.text(max_size=20), st.just("r" * 201), st.sampled_from(["rec-1", " ", "\x00"])),
}


@fuzz(400)
@given(
    pairs=st.fixed_dictionaries({}, optional=META_VALUES), extra=st.dictionaries(TOKEN, st.text(max_size=5), max_size=2)
)
def test_tus_recording_metadata(tus: Any, pairs: dict[str, str], extra: dict[str, str]) -> None:
    try:
        meta = tus.recording_meta({**extra, **pairs})
    except Exception as error:
        _refused(error, 422)
        return
    for value in (meta.filename, meta.title, meta.recording_id or ""):
        assert not _has_unsafe(value), meta
    assert meta.filename and "/" not in meta.filename and "\\" not in meta.filename and len(meta.filename) <= 300
    assert len(meta.title) <= 300 and (meta.speakers is None or 1 <= meta.speakers <= 20)
    assert meta.held_at is None or (meta.held_at.utcoffset() is not None and 1900 <= meta.held_at.year <= 2200)
    again = tus.stored_meta(meta.stored())
    assert (again.filename, again.title, again.kind, again.held_at, again.speakers) == (
        meta.filename,
        meta.title,
        meta.kind,
        meta.held_at,
        meta.speakers,
    )


@pytest.fixture
def device_client(world: World, tus: Any) -> Any:
    """A meeting-room device of 北区役所 with its key, as a client."""
    from service.accounts import add_device

    with Session(world.engine) as db:
        _device, key = add_device(db, "会議室A", "北区役所 保健福祉課")
    client = world.client()
    client.headers["X-Device-Key"] = key
    return client


TUS_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["POST", "PATCH", "HEAD", "DELETE"]),
        st.one_of(st.just("1.0.0"), st.just("1.0.0"), st.sampled_from(["", "0.2.2", "1.0.0 "])),
        NUMBER_TEXT,  # Upload-Length or Upload-Offset
        st.one_of(st.just(None), METADATA_HEADERS),
        st.sampled_from(["application/offset+octet-stream", "application/octet-stream", ""]),
    ),
    min_size=1,
    max_size=4,
)


@fuzz(60)
@given(steps=TUS_STEPS, known_id=st.booleans())
def test_tus_headers_through_the_api(world: World, device_client: Any, steps: list[Any], known_id: bool) -> None:
    """Requests of a device with odd tus headers: answered with 2xx or a 4xx in Japanese, never a 500."""
    from api.tus import encode_metadata

    created = device_client.post(
        "/api/v1/uploads",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "16044",
            "Upload-Metadata": encode_metadata({"kind": "meeting"}),
        },
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    body = tiny_wav()
    for method, version, number, metadata, content_type in steps:
        headers = {"Tus-Resumable": version}
        if method == "POST":
            headers["Upload-Length"] = number
            if metadata is not None:
                headers["Upload-Metadata"] = metadata
            path = "/api/v1/uploads"
        else:
            path = location if known_id else location.rsplit("/", 1)[0] + "/" + ("0" * 32)
            if method == "PATCH":
                headers |= {"Upload-Offset": number, "Content-Type": content_type}
        encoded = {k: v.encode("utf-8") for k, v in headers.items()}
        response = device_client.request(method, path, headers=encoded, content=body if method == "PATCH" else None)
        assert response.status_code in (200, 201, 204, 400, 404, 409, 412, 413, 415, 422, 423), response.text[:300]
        assert response.headers.get("tus-resumable") == "1.0.0"
        if response.status_code >= 400 and method != "HEAD":
            assert JAPANESE.search(response.json()["detail"]), response.text[:300]

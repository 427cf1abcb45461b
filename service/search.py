"""Full-text search over a department's transcripts and minutes (全文検索).

What clerks type and what the records say are normalised the same way, so that they meet:

- NFKC (full-width ９条, ＡＢＣ and half-width ｶﾅ become 9条, abc, カナ), lower case;
- katakana as hiragana (ゴミ finds ごみ);
- only letters and digits are kept (spaces and punctuation that the recogniser sets at will are
  dropped: 予算、執行 is found by 予算執行, 3,000 by 3000);
- kanji numerals as Arabic ones (第九条 → 第9条, 二〇二五年 → 2025年, 三億四千五百万円 →
  3億4500万円, so 9条 finds 九条, ９条 and 9条), keeping 万/億/兆 as written, as clerks write amounts.

Every normalised character remembers where it came from in the original text, so a match is
highlighted in the text as shown.

The index: character bigrams
----------------------------
Japanese has no spaces between words and many of the words clerks look for are two characters
long (予算, 条例, 九条 → 9条). A trigram index (SQLite FTS5's ``trigram`` tokenizer, PostgreSQL's
pg_trgm) cannot answer a two-character query from the index at all: both fall back to reading
every row (measured on the 5,000-hour benchmark: 0.3–2 s for 9条 or 説明 with pg_trgm). pg_trgm
also ignores non-ASCII characters when the database's LC_CTYPE is plain ``C`` and needs an
extension. So the index is built on character bigrams (as pg_bigm and Groonga's TokenBigram do),
from the normalised text, on both databases:

- SQLite: an FTS5 table ``searchfts`` (created by migration 0003), one row per recording (rowid =
  recording id) holding the recording's bigrams in order as tokens, a separator token between
  utterances. A query term becomes an FTS5 phrase of its bigrams ("9条 条の"), which matches exactly
  where the term occurs: FTS5 checks the positions.
- PostgreSQL: ``searchdocument.grams``, the recording's distinct bigrams as a ``text[]`` with a GIN
  index (built in, no extension, independent of the locale). ``grams @> {9条,条の}`` finds the
  recordings that have every bigram of the term; the verification below drops the few that have
  them but not the term.

One row per recording keeps the index small and the candidate step bounded by the number of
recordings, however common a word is. ``searchdocument.norm`` keeps the recording's normalised
text (one line per utterance, header fields first) to count matches in, and ``searchsegment`` each
utterance as shown (with its segment index, start time and speaker) to show a match and the place
to jump to.

Ranking
-------
Candidates (recordings with every term) are verified and counted newest first, 100 at a time (up
to ``MAX_VERIFIED`` while fewer than a page were found), in their normalised text; a term's count
in a recording gives a BM25 score (k1 1.2, b 0.5, lengths in normalised characters; a match in the
header counts three times; idf from the candidates per term). A word found in more recordings than
were verified is ranked among the newest of them: the answer says ``complete: false`` and gives the
number of candidates, and the page can ask for a more specific query. This bounds the cost of a
search whatever the word (see ``bench/search_5000.py``).

The index follows the records: ``index_recording`` is called where a transcript is stored (the
worker), where minutes are saved and where a recording is deleted; ``index_missing`` catches up on
recordings stored before this index existed or whose indexing failed.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from dictionaries.text import katakana_to_hiragana
from service.access import Caller, audit
from service.errors import ServiceError
from service.minutes import current_minutes
from service.models import MinutesRevision, Recording, Role, SearchDocument, SearchSegment, TranscriptRecord, utcnow

log = logging.getLogger(__name__)

MIN_TERM_CHARS = 2
MAX_TERMS = 5
VERIFY_BATCH = 100
MAX_VERIFIED = 300
HEADER_WEIGHT = 3
K1, B = 1.2, 0.5
SEPARATOR = "\ue000"  # a private-use character: never in normalised text, so never in a query
SNIPPET_BEFORE, SNIPPET_LENGTH = 30, 100
MATCHES_SHOWN = 3


class SearchError(ValueError):
    """The query cannot be searched (empty, or a term shorter than two characters)."""


# --- normalisation -------------------------------------------------------------------------------

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS = "万億兆"
_NUMERAL_RUN = re.compile("[〇零一二三四五六七八九十百千万億兆]+")
_WORD_RUN = re.compile(r"[^\W_]+")  # letters and digits of every script, kana and kanji included
_HALF_WIDTH_MARKS = "\uff9e\uff9f"  # ﾞ ﾟ: NFKC joins them to the kana before them


@dataclass(frozen=True)
class Normalised:
    """Normalised text; character i came from ``original[starts[i]:ends[i]]``."""

    text: str
    starts: list[int] = field(repr=False)
    ends: list[int] = field(repr=False)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def _group_value(group: str) -> str:
    if not any(c in _SMALL_UNITS for c in group):
        return "".join(str(_DIGITS[c]) for c in group)  # 二〇二五 → 2025
    total = number = 0
    for c in group:
        if c in _DIGITS:
            number = number * 10 + _DIGITS[c]
        else:
            total += (number or 1) * _SMALL_UNITS[c]
            number = 0
    return str(total + number)


def kanji_numerals(run: str, after_digit: bool = False) -> str:
    """A run of kanji numerals in Arabic digits: 九 → 9, 百二十 → 120, 三億四千五百万 → 3億4500万.

    Units that follow an Arabic digit stay as written (3千人 is not 31000人).
    """
    out: list[str] = []
    lead = 0
    if after_digit:
        while lead < len(run) and (run[lead] in _SMALL_UNITS or run[lead] in _LARGE_UNITS):
            lead += 1
        out.append(run[:lead])
    group = ""
    for c in run[lead:]:
        if c in _LARGE_UNITS:
            if group:
                out.append(_group_value(group))
                group = ""
            out.append(c)
        else:
            group += c
    if group:
        out.append(_group_value(group))
    return "".join(out)


def _fold(text: str) -> list[tuple[str, int, int]]:
    """(character, original start, original end): NFKC, lower case, hiragana; letters and digits only."""
    chars: list[tuple[str, int, int]] = []
    if unicodedata.is_normalized("NFKC", text):  # the usual case: one character for one character
        for match in _WORD_RUN.finditer(text):
            run = match.group()
            folded = run.lower()
            if len(folded) != len(run):  # a few letters lower-case to two characters (İ)
                folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in run)
            start = match.start()
            chars.extend((c, start + k, start + k + 1) for k, c in enumerate(katakana_to_hiragana(folded)))
        return chars
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (unicodedata.combining(text[j]) or text[j] in _HALF_WIDTH_MARKS):
            j += 1
        for c in unicodedata.normalize("NFKC", text[i:j]):
            if _WORD_RUN.fullmatch(c):
                lower = c.lower()
                chars.append((katakana_to_hiragana(lower if len(lower) == 1 else c), i, j))
        i = j
    return chars


def normalise(text: str) -> Normalised:
    """The searchable form of ``text`` (see the module notes), with the way back to the original."""
    chars = _fold(text)
    folded = "".join(c for c, _, _ in chars)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def keep(lo: int, hi: int) -> None:
        for c, start, end in chars[lo:hi]:
            out.append(c)
            starts.append(start)
            ends.append(end)

    cursor = 0
    for match in _NUMERAL_RUN.finditer(folded):
        keep(cursor, match.start())
        before = folded[match.start() - 1] if match.start() else ""
        value = kanji_numerals(match.group(), after_digit=before.isascii() and before.isdigit())
        start, end = chars[match.start()][1], chars[match.end() - 1][2]
        out.extend(value)
        starts.extend([start] * len(value))
        ends.extend([end] * len(value))
        cursor = match.end()
    keep(cursor, len(chars))
    return Normalised("".join(out), starts, ends)


def bigrams(norm: str) -> list[str]:
    return [norm[i : i + 2] for i in range(len(norm) - 1)]


def fts_tokens(norms: list[str]) -> str:
    """The FTS5 row of a recording: each utterance's bigrams, a separator token between utterances."""
    return f" {SEPARATOR} ".join(" ".join(bigrams(n)) for n in norms)


def query_terms(query: str) -> list[str]:
    """The normalised terms of a query (separated by spaces); raises ``SearchError``."""
    terms: list[str] = []
    for word in query.split():
        term = normalise(word).text
        if term and term not in terms:
            terms.append(term)
    if not terms:
        raise SearchError("検索する語を入力してください。")
    if any(len(t) < MIN_TERM_CHARS for t in terms):
        raise SearchError("検索語は2文字以上で入力してください。")
    if len(terms) > MAX_TERMS:
        raise SearchError(f"検索語は{MAX_TERMS}語までです。")
    return terms


# --- the index -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    segment: int
    field: str
    start: float
    speaker: str
    text: str
    norm: str


def _rows(body: dict[str, Any]) -> list[_Row]:
    """Header fields (segment -1) and utterances of a minutes body, with their normalised text."""
    rows: list[_Row] = []
    header = body.get("header") or {}
    for key in sorted(header):
        value = header[key]
        if isinstance(value, str) and key != "held_at":
            norm = normalise(value).text
            if norm:
                rows.append(_Row(-1, key[:50], 0.0, "", value, norm))
    transcript = body.get("transcript") or {}
    names = {s.get("id"): s.get("name") or s.get("id") for s in transcript.get("speakers") or []}
    for index, segment in enumerate(transcript.get("segments") or []):
        value = str(segment.get("text") or "")
        norm = normalise(value).text
        if norm:
            speaker = str(segment.get("speaker") or "")
            rows.append(
                _Row(index, "", float(segment.get("start") or 0.0), str(names.get(speaker) or speaker), value, norm)
            )
    return rows


def _is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def _remove(db: Session, recording_id: int) -> None:
    if _is_sqlite(db):
        norm = db.exec(select(SearchDocument.norm).where(SearchDocument.recording_id == recording_id)).first()
        if norm is not None:  # contentless FTS5: a row is deleted by giving the tokens it was indexed with
            db.execute(
                text("INSERT INTO searchfts(searchfts, rowid, grams) VALUES ('delete', :id, :grams)"),
                {"id": recording_id, "grams": fts_tokens(norm.split("\n") if norm else [])},
            )
    db.execute(delete(SearchSegment).where(col(SearchSegment.recording_id) == recording_id))
    db.execute(delete(SearchDocument).where(col(SearchDocument.recording_id) == recording_id))


def remove_from_index(db: Session, recording_id: int) -> None:
    """Take a recording out of the index within the caller's transaction (a deletion commits it)."""
    _remove(db, recording_id)


@dataclass(frozen=True)
class _Prepared:
    version: tuple[int, datetime | None]  # what was indexed: the minutes' revision and the transcript's time
    rows: list[_Row]
    grams: list[str]


def _version(db: Session, recording_id: int) -> tuple[int, datetime | None] | None:
    """The minutes' newest revision number (-1: none saved) and the machine transcript's time; None
    without a transcript. A relabel rewrites the transcript in place: its time tells the versions apart."""
    machine = db.exec(select(TranscriptRecord.created_at).where(TranscriptRecord.recording_id == recording_id)).first()
    if machine is None:
        return None
    newest = db.exec(select(func.max(MinutesRevision.number)).where(MinutesRevision.recording_id == recording_id))
    number = newest.one()
    return (-1 if number is None else number), machine


def _prepare(db: Session, recording_id: int) -> _Prepared | None:
    recording = db.get(Recording, recording_id)
    if recording is None or recording.deleted_at is not None:
        return None
    version = _version(db, recording_id)
    current = current_minutes(db, recording)
    if version is None or current is None:
        return None
    rows = _rows(current[1])
    return _Prepared(version, rows, sorted({g for row in rows for g in bigrams(row.norm)}))


def _index(db: Session, recording_id: int) -> None:
    # The slow part, normalising every character, comes before any lock: held meanwhile, SQLite's one
    # write lock would stop every save and every worker (minutes of 4 M characters: tens of seconds).
    prepared = _prepare(db, recording_id)
    db.rollback()  # the reading is over: what follows sees what was committed meanwhile
    # The recording is read under a lock, so a deletion committed meanwhile is seen (read before it,
    # a recording just deleted would be indexed again). PostgreSQL: its row lock, which also makes two
    # saves at once index one after the other. SQLite has no row locks: the removal takes its write
    # lock first.
    sqlite = _is_sqlite(db)
    if sqlite:
        _remove(db, recording_id)
    recording = db.exec(select(Recording).where(Recording.id == recording_id).with_for_update()).first()
    if not sqlite:
        _remove(db, recording_id)
    version = None if recording is None or recording.deleted_at is not None else _version(db, recording_id)
    if recording is None or version is None:
        db.commit()
        return
    if prepared is None or prepared.version != version:  # saved again meanwhile: what is there now
        prepared = _prepare(db, recording_id)
        if prepared is None:
            db.commit()
            return
    rows = prepared.rows
    number = max(version[0], 0)
    db.add(
        SearchDocument(
            recording_id=recording_id,
            department_id=recording.department_id,
            source="minutes" if number else "transcript",
            revision=number,
            chars=sum(len(row.norm) for row in rows),
            header_rows=sum(1 for row in rows if row.segment < 0),
            norm="\n".join(row.norm for row in rows),  # normalised text has no line breaks
            grams=[] if sqlite else prepared.grams,
            indexed_at=utcnow(),
        )
    )
    db.flush()
    if rows:  # one statement for all the rows: no object per utterance
        db.execute(
            insert(SearchSegment),
            [
                {
                    "recording_id": recording_id,
                    "ordinal": ordinal,
                    "segment": row.segment,
                    "field": row.field,
                    "start": row.start,
                    "speaker": row.speaker[:200],
                    "text": row.text,
                }
                for ordinal, row in enumerate(rows)
            ],
        )
    if sqlite:
        db.execute(
            text("INSERT INTO searchfts(rowid, grams) VALUES (:id, :grams)"),
            {"id": recording_id, "grams": fts_tokens([row.norm for row in rows])},
        )
    db.commit()


def index_recording(db: Session, recording_id: int) -> bool:
    """Make the index show the recording as it is now: its latest minutes (or the machine transcript),
    or nothing once it is deleted. Never raises: the index is derived data, so a failure is logged
    and the caller's work (a stored transcript, saved minutes) stands."""
    try:
        _index(db, recording_id)
        return True
    except Exception as error:
        # The kind of error only: a database error's message and traceback quote the statement's
        # parameters, which here are the recording's text (as the worker logs a crashed job).
        log.error("search index: recording %s could not be indexed: %s", recording_id, type(error).__name__)
        log.debug("search index: recording %s could not be indexed", recording_id, exc_info=True)
        db.rollback()
        return False


# Minutes longer than this are indexed after the save has answered: normalising millions of
# characters takes seconds, and the editor saves every few seconds while a clerk types.
BACKGROUND_CHARS = 200_000


class _Background:
    """At most one background indexing per recording; saves that arrive meanwhile fold into one more
    run, which reads the minutes as they are then (the latest save is what ends up indexed)."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.running: set[int] = set()
        self.again: set[int] = set()

    def request(self, engine: Engine, recording_id: int) -> None:
        with self.changed:
            if recording_id in self.running:
                self.again.add(recording_id)
                return
            self.running.add(recording_id)
        threading.Thread(target=self._run, args=(engine, recording_id), name="search-index", daemon=True).start()

    def _run(self, engine: Engine, recording_id: int) -> None:
        while True:
            with Session(engine) as db:
                index_recording(db, recording_id)
            with self.changed:
                if recording_id in self.again:
                    self.again.discard(recording_id)
                    continue
                self.running.discard(recording_id)
                self.changed.notify_all()
                return

    def wait(self, timeout: float) -> bool:
        """Whether every background indexing finished within ``timeout`` seconds (for tests and shutdown)."""
        with self.changed:
            return self.changed.wait_for(lambda: not self.running, timeout)


background = _Background()


def index_after_save(db: Session, recording_id: int, chars: int) -> None:
    """Index saved minutes: at once, or (``BACKGROUND_CHARS`` and longer) after the save has answered."""
    bind = db.get_bind()
    if chars < BACKGROUND_CHARS or not isinstance(bind, Engine):
        index_recording(db, recording_id)
    else:
        background.request(bind, recording_id)


def index_missing(db: Session, department_ids: list[int] | None, limit: int = 20) -> int:
    """Index up to ``limit`` transcribed recordings that are not in the index yet (stored before it
    existed, or whose indexing failed). Returns how many are still missing after this call."""
    query = (
        select(Recording.id)
        .join(TranscriptRecord, col(TranscriptRecord.recording_id) == Recording.id)
        .join(SearchDocument, col(SearchDocument.recording_id) == Recording.id, isouter=True)
        .where(col(SearchDocument.recording_id).is_(None), col(Recording.deleted_at).is_(None))
    )
    if department_ids is not None:
        query = query.where(col(Recording.department_id).in_(department_ids))
    missing = [i for i in db.exec(query.order_by(col(Recording.id).desc()).limit(limit + 1)).all() if i is not None]
    for recording_id in missing[:limit]:
        index_recording(db, recording_id)
    if len(missing) <= limit:
        return 0
    return int(db.exec(select(func.count()).select_from(query.subquery())).one())


# --- searching -----------------------------------------------------------------------------------


@dataclass
class _Found:
    recording_id: int
    counts: dict[str, int]  # term -> occurrences (a header match counts HEADER_WEIGHT times)
    chars: int
    header_rows: int
    norm: str
    source: str
    revision: int


def _scope(query: Any, department_ids: list[int] | None) -> Any:
    return query if department_ids is None else query.where(col(SearchDocument.department_id).in_(department_ids))


def _candidates(db: Session, term: str, department_ids: list[int] | None) -> set[int]:
    """Recordings in scope that may hold ``term``: exact on SQLite (FTS5 phrase), a superset on PostgreSQL."""
    params: dict[str, Any] = {}
    if _is_sqlite(db):
        params["q"] = '"' + " ".join(bigrams(term)) + '"'  # normalised terms hold letters and digits only
        sql = "SELECT rowid FROM searchfts WHERE searchfts MATCH :q"
        if department_ids is not None:
            params.update({f"d{k}": d for k, d in enumerate(department_ids)})
            departments = ", ".join(f":d{k}" for k in range(len(department_ids)))
            sql = (
                f"SELECT recording_id FROM searchdocument WHERE department_id IN ({departments}) "
                f"AND recording_id IN ({sql})"
            )
        return {int(r[0]) for r in db.execute(text(sql), params).all()}
    # The GIN index, always: the planner takes the table for small (its rows are), but every row's
    # bigrams lie compressed outside it, and reading them all costs 100–300 ms at 5,000 recordings
    # where the index answers in under 5 ms. (``department_id + 0``: not the department's index either.)
    params["grams"] = sorted(set(bigrams(term)))
    sql = "SELECT recording_id FROM searchdocument WHERE grams @> CAST(:grams AS text[])"
    if department_ids is not None:
        params["departments"] = list(department_ids)
        sql += " AND department_id + 0 = ANY(:departments)"
    db.execute(text("SET LOCAL enable_seqscan = off"))
    found = {int(r[0]) for r in db.execute(text(sql), params).all()}
    db.execute(text("SET LOCAL enable_seqscan = on"))
    return found


def _verify(db: Session, batch: list[int], terms: list[str]) -> dict[int, _Found]:
    """Each term's occurrences in each recording of the batch, counted in its normalised text."""
    columns = (
        col(SearchDocument.recording_id),
        col(SearchDocument.chars),
        col(SearchDocument.header_rows),
        col(SearchDocument.norm),
        col(SearchDocument.source),
        col(SearchDocument.revision),
    )
    rows = db.execute(sa_select(*columns).where(col(SearchDocument.recording_id).in_(batch))).all()
    found: dict[int, _Found] = {}
    for recording_id, chars, header_rows, norm, source, revision in rows:
        if not all(t in norm for t in terms):  # PostgreSQL's candidates may have a term's bigrams only
            continue
        header = "\n".join(norm.split("\n", header_rows)[:header_rows]) if header_rows else ""
        counts = {t: norm.count(t) + (HEADER_WEIGHT - 1) * header.count(t) for t in terms}
        found[recording_id] = _Found(recording_id, counts, chars, header_rows, norm, source, revision)
    return found


def _lines(hit: _Found, terms: list[str]) -> tuple[int, list[int]]:
    """(utterances with a match, the rows to show: most terms and matches first, the header after them)."""
    ranked: list[tuple[int, int, bool, int]] = []
    hits = 0
    for ordinal, line in enumerate(hit.norm.split("\n")):
        present = [line.count(t) for t in terms if t in line]
        if present:
            header = ordinal < hit.header_rows
            hits += 0 if header else 1
            ranked.append((-len(present), -sum(present), header, ordinal))
    return hits, [r[3] for r in sorted(ranked)[:MATCHES_SHOWN]]


def _snippet(original: str, terms: list[str]) -> dict[str, Any]:
    """A window of the utterance around its first match, with every match's offsets in the window."""
    norm = normalise(original)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = norm.text.find(term)
        while start >= 0:
            spans.append(norm.original_span(start, start + len(term)))
            start = norm.text.find(term, start + 1)
    spans.sort()
    first = spans[0][0] if spans else 0
    lo = max(0, first - SNIPPET_BEFORE)
    hi = min(len(original), max(lo + SNIPPET_LENGTH, spans[0][1] if spans else 0))
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(original) else ""
    shift = len(prefix) - lo
    highlights = [[a + shift, b + shift] for a, b in spans if a >= lo and b <= hi]
    return {"text": prefix + original[lo:hi] + suffix, "highlights": highlights}


def search(
    db: Session, query: str, department_ids: list[int] | None, *, limit: int = 20, offset: int = 0
) -> dict[str, Any]:
    """Recordings of the departments (None: all) whose minutes or transcript hold every term of the query."""
    terms = query_terms(query)
    if not _is_sqlite(db):
        # The candidate query's best plan depends on its values: never a cached generic plan.
        db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    per_term = {t: _candidates(db, t, department_ids) for t in terms}
    candidates = sorted(set.intersection(*per_term.values()), reverse=True)  # newest first
    count, average = db.exec(_scope(select(func.count(), func.avg(SearchDocument.chars)), department_ids)).one()
    documents = max(int(count or 0), 1)
    average_chars = float(average or 1.0) or 1.0

    found: dict[int, _Found] = {}
    verified = 0
    while verified < len(candidates) and (verified == 0 or len(found) < offset + limit) and verified < MAX_VERIFIED:
        batch = candidates[verified : verified + VERIFY_BATCH]
        found.update(_verify(db, batch, terms))
        verified += len(batch)
    complete = verified >= len(candidates)

    idf = {t: math.log(1 + (documents - len(per_term[t]) + 0.5) / (len(per_term[t]) + 0.5)) for t in terms}

    def score(hit: _Found) -> float:
        norm_length = K1 * (1 - B + B * (hit.chars or average_chars) / average_chars)
        return sum(idf[t] * hit.counts[t] * (K1 + 1) / (hit.counts[t] + norm_length) for t in terms)

    ranked = sorted(found.values(), key=lambda h: (-score(h), -h.recording_id))
    page = ranked[offset : offset + limit]
    return {
        "query": query,
        "terms": terms,
        "total": len(found) if complete else len(candidates),
        "complete": complete,
        "items": _items(db, page, terms, score),
    }


def _items(db: Session, page: list[_Found], terms: list[str], score: Callable[[_Found], float]) -> list[dict[str, Any]]:
    if not page:
        return []
    ids = [h.recording_id for h in page]
    recordings = {r.id: r for r in db.exec(select(Recording).where(col(Recording.id).in_(ids))).all()}
    lines = {hit.recording_id: _lines(hit, terms) for hit in page}
    wanted = [
        and_(col(SearchSegment.recording_id) == recording_id, col(SearchSegment.ordinal).in_(shown))
        for recording_id, (_hits, shown) in lines.items()
        if shown
    ]
    columns = (
        col(SearchSegment.recording_id),
        col(SearchSegment.ordinal),
        col(SearchSegment.segment),
        col(SearchSegment.field),
        col(SearchSegment.start),
        col(SearchSegment.speaker),
        col(SearchSegment.text),
    )
    rows = (
        {(row[0], row[1]): row for row in db.execute(sa_select(*columns).where(or_(*wanted))).all()} if wanted else {}
    )
    items: list[dict[str, Any]] = []
    for hit in page:
        recording = recordings.get(hit.recording_id)
        if recording is None or recording.deleted_at is not None:
            continue
        hits, ordinals = lines[hit.recording_id]
        shown = [rows[(hit.recording_id, k)] for k in ordinals if (hit.recording_id, k) in rows]
        matches = [
            {
                "segment": segment if segment >= 0 else None,
                "field": field_name or None,
                "start": round(start, 3),
                "speaker": speaker,
                **_snippet(original, terms),
            }
            for _id, _ordinal, segment, field_name, start, speaker, original in shown
        ]
        if not matches:
            continue
        items.append(
            {
                "recording_id": hit.recording_id,
                "title": recording.title,
                "kind": recording.kind,
                "held_at": recording.held_at,
                "created_at": recording.created_at,
                "source": hit.source,
                "revision": hit.revision,
                "score": round(score(hit), 4),
                "hits": hits,
                "counts": hit.counts,
                **matches[0],
                "matches": matches,
            }
        )
    return items


def search_for(db: Session, caller: Caller, query: str, *, limit: int, offset: int, ip: str) -> dict[str, Any]:
    """``search`` in what the caller may see, with ``pending``: recordings not yet indexed."""
    # Clerks and managers: their department. Admins: every department (as for recordings).
    departments = None if caller.role == Role.admin else [caller.user.department_id]
    pending = index_missing(db, departments)
    try:
        result = search(db, query, departments, limit=limit, offset=offset)
    except SearchError as error:
        raise ServiceError(422, "invalid_query", str(error)) from error
    # The query may itself be personal data (a name): the trail keeps only what was shown.
    shown = " ".join(str(item["recording_id"]) for item in result["items"])
    audit(db, "search", caller=caller, detail=f"found {result['total']} shown {shown}".strip(), ip=ip)
    return {**result, "pending": pending}

"""Reading-based correction: put dictionary terms where the recogniser wrote something that sounds the same.

Whisper writes an unfamiliar name as it hears it: 杭全 (くまた) becomes クマタ, 平野区 becomes
ひらの区, 天下茶屋 becomes デンガチャや. The hypothesis is analysed into morphemes with readings;
a run of morphemes whose reading equals a term's reading (or nearly, for long readings) is
replaced by the term. Known wrong forms (aliases) are replaced directly.

Guards against false replacements:
- readings shorter than 3 kana are never matched by sound;
- near matches need 6+ kana and differ only by substituted sounds (デ for テ), never by a sound
  added or missing, so a correct word is not stretched into a longer term, and never in a
  particle's sound or a number;
- spans with punctuation, or that start or end in a verb or auxiliary, are never touched;
- two terms with one reading are never guessed between;
- an alias that is only digits or Latin letters ("13" for 十三) is not applied: it is also
  ordinary text.

A second pass reads short kanji runs every way the dictionary knows (重操 as じゅう+そう, not
おも+みさお) and looks for terms of 4+ kana read exactly, allowing a 、 or ・ that Whisper put
inside a compound (教育委員会、事務局). It never starts or ends on a particle, never crosses a
number, and needs a kanji in the span, so kana words keep the stricter first pass.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Hamming, Levenshtein

from dictionaries.fuzzy import WILDCARD, align
from dictionaries.kanji_readings import on_readings
from dictionaries.reading import (
    MAX_COMPOSED_KANJI,
    Token,
    composed_readings,
    other_readings,
    reading_of,
    token_readings,
    tokenize,
)
from dictionaries.terms import Term, fold_voicing, is_kana, merge_terms, to_hiragana

MIN_READING = 3  # shorter readings (き, たつ) match too many ordinary words
MIN_NEAR_READING = 6  # 5-kana words one sound apart are often both real words (重要・十三, 市役所・区役所)
MIN_KANA_READING = 4  # kana spelled-out names matched inside longer kana runs
MAX_SPAN_TOKENS = 6
MIN_ALTERNATIVE_READING = 4
MIN_REREAD_READING = 5  # re-read kanji or a voicing difference: 4 kana are too easily met (上、次 → 東海林)
MIN_FUZZY_READING = 7  # a sound dropped, added or unreadable only in long terms
MAX_LOOSE_READINGS = 3  # per token
MAX_LOOSE_VARIANTS = 16  # per span
MIN_FUZZY_SHARE = 0.65  # of a term's kana that must be heard as they sound
_KANJI = re.compile(r"[\u4e00-\u9fff々]")
_INNER_PUNCTUATION = {"、", "・", "，", "､"}
_TERMINAL = ""  # trie key marking a complete reading
_KANA_RUN = re.compile(r"[\u3041-\u3096\u30a1-\u30faー]+")
_PARTICLES = set("のにをはがでとへやもか")
_NEVER_AT_EDGE = {"動詞", "助動詞", "形容詞", "補助記号", "空白"}
_NEVER_INSIDE = {"補助記号", "空白"}


@dataclass(frozen=True)
class _Span:
    start: int  # character offsets in the text
    last_token: int  # index of the token the span ends in (perhaps inside it)
    end: int
    term: Term


def _conjugated_edge(token: Token) -> bool:
    """A verb, adjective or auxiliary written with kana (来たく, 講じ): a real word's inflection,
    never the edge of a misheard name. A bare kanji the analyser calls an adjective (重 of 重操)
    shows no inflection and may be one."""
    return token.pos in _NEVER_AT_EDGE and not (token.pos in {"動詞", "形容詞"} and not _KANA_IN.search(token.surface))


@dataclass(frozen=True)
class _State:
    """A place in the reading trie, what was heard to get there, and whether a kanji was re-read
    (given a reading other than the analyser's) on the way."""

    node: dict[str, Any]
    heard: str
    reread: bool

    def term(self) -> Term | None:
        """The term ending here, if the way here is safe for its length: short terms only when
        heard exactly as the analyser reads them (工場 is not 九条, 少し not 東海林)."""
        entry: tuple[Term, str] | None = self.node.get(_TERMINAL)
        if entry is None:
            return None
        term, reading = entry
        if (self.reread or self.heard != reading) and len(reading) < MIN_REREAD_READING:
            return None
        return term


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets of ``before`` in the text given to :meth:`Corrector.correct`
    end: int
    before: str
    after: str
    term: str
    rule: str  # "alias" or "reading"


def _allowed_distance(length: int) -> int:
    if length < MIN_NEAR_READING:
        return 0
    return 1 if length < 9 else 2


_HIRAGANA = re.compile(r"[\u3041-\u3096ー]")
_KANA_IN = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")


def _spelled_out_edge(tokens: list[Token], i: int, at_start: bool) -> bool:
    """A verb-looking piece at the edge of a hiragana run that stands on its own (、きたく混乱者,
    つなみひなびるの): Whisper spelling an unfamiliar word by sound, which the analyser then cuts
    into verbs. A conjugation attached to a kanji stem (来たく, 避難する) is never one."""
    token = tokens[i]
    if not token.surface or not all(_HIRAGANA.match(ch) for ch in token.surface):
        return False
    neighbour = i - 1 if at_start else i + 1
    if not 0 <= neighbour < len(tokens):
        return True
    other = tokens[neighbour]
    if other.pos in {"助詞", "補助記号", "空白"}:
        return True
    return at_start and not _HIRAGANA.match(other.surface[-1:] or " ")


def loose_readings(token: Token) -> tuple[str, ...]:
    """A token's reading for the loose pass (``WILDCARD`` where the analyser has none), and for a
    short kanji word that is no ordinary word (a name, an unknown word, a lone kanji) also its
    kanji read one by one by their on-readings, and its other readings."""
    own = WILDCARD if _KANJI.search(token.reading) else token.reading
    if token.common or not _KANJI.search(token.surface) or len(token.surface) > MAX_COMPOSED_KANJI:
        return (own,)
    composed = composed_readings(token.surface, on_readings, WILDCARD, MAX_LOOSE_VARIANTS)
    known = other_readings(token.surface) if len(token.surface) <= 2 else ()
    return tuple(dict.fromkeys((own, *composed, *known)))[:MAX_LOOSE_READINGS]


def _particle_before_kanji(tokens: list[Token], i: int) -> bool:
    """A particle followed by a kanji word (の|即) starts no term; one followed by more kana
    (が|もう) may be a name spelled out in hiragana."""
    following = tokens[i + 1].surface[:1] if i + 1 < len(tokens) else ""
    return tokens[i].pos == "助詞" and not _HIRAGANA.match(following or " ") and not _KANA_IN.match(following or " ")


def _shares_half(written: str, term: str) -> bool:
    """Half of the term's characters (kana as hiragana) also appear in the written span."""
    pool = list(to_hiragana(written))
    shared = 0
    for ch in to_hiragana(term):
        if ch in pool:
            pool.remove(ch)
            shared += 1
    return 2 * shared >= len(term)


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


def _after_number(tokens: list[Token], i: int) -> bool:
    """A word right after a number is its counter or unit (2025年, 3人): never the start of a misheard term."""
    return i > 0 and tokens[i - 1].is_number


def _safe_alias(alias: str, term: str) -> bool:
    if len(alias) < 2 or alias in term:
        return False
    return not alias.isascii()  # "13" or "IT" are ordinary text far more often than misheard terms


class Corrector:
    """Built once per set of dictionaries (about 1 s per 10,000 terms without readings); reusable."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = merge_terms(terms)
        self._exact: dict[str, Term | None] = {}
        self._near: dict[tuple[str, int], list[tuple[str, Term]]] = defaultdict(list)
        for term in self.terms:
            reading = term.reading or reading_of(term.term)
            if len(reading) < MIN_READING:
                continue
            # Two terms with one reading (同音異義): sound cannot tell them apart, so neither is applied.
            known = self._exact.get(reading, term)
            if known is None or known.term != term.term:
                self._exact[reading] = None
            else:
                self._exact[reading] = term
            if len(reading) >= MIN_NEAR_READING - 1:
                # One substituted sound leaves the first or the last kana intact: index both.
                self._near[(reading[0], len(reading))].append((reading, term))
                self._near[(reading[-1], -len(reading))].append((reading, term))
        aliases = {alias: term for term in self.terms for alias in term.aliases if _safe_alias(alias, term.term)}
        self._aliases = aliases
        pattern = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
        self._alias_re = re.compile(pattern) if pattern else None
        self._max_reading = max((len(r) for r in self._exact), default=0)
        # Long terms by first and by last kana: a loose match keeps at least one end.
        self._by_edge: dict[str, list[tuple[str, Term]]] = defaultdict(list)
        for reading, exact_term in self._exact.items():
            if exact_term is not None and len(reading) >= MIN_FUZZY_READING:
                self._by_edge[reading[0]].append((reading, exact_term))
                self._by_edge[reading[-1]].append((reading, exact_term))
        self._trie: dict[str, Any] = {}
        for reading, exact_term in self._exact.items():
            if exact_term is None or len(reading) < MIN_ALTERNATIVE_READING:
                continue
            node = self._trie
            for kana in fold_voicing(reading):
                node = node.setdefault(kana, {})
            node[_TERMINAL] = (exact_term, reading)

    def correct(self, text: str) -> tuple[str, list[Edit]]:
        """The corrected text and the edits, with offsets into the original ``text``."""
        edits = self._alias_edits(text)
        edits += self._reading_edits(text, given=[(e.start, e.end) for e in edits])
        edits.sort(key=lambda e: e.start)
        pieces, cursor = [], 0
        for edit in edits:
            pieces += [text[cursor : edit.start], edit.after]
            cursor = edit.end
        pieces.append(text[cursor:])
        return "".join(pieces), edits

    def _alias_edits(self, text: str) -> list[Edit]:
        if self._alias_re is None:
            return []
        return [
            Edit(m.start(), m.end(), m.group(), self._aliases[m.group()].term, self._aliases[m.group()].term, "alias")
            for m in self._alias_re.finditer(text)
        ]

    def _best_term(self, reading: str, written: str | None = None) -> tuple[Term, str] | None:
        """The term that sounds like ``reading``, with its reading; exact matches first.

        ``written``: the span's text when it is more than one token; a 5-kana term one sound off
        is taken only if the span is no word the dictionary knows and shares half the term's
        characters (古代ゴミ → 粗大ごみ: 大, ご, み), as a word one sound from a term is usually a
        word of its own (重要 and 十三, 市役所 and 区役所).
        """
        exact = self._exact.get(reading)
        if exact is not None:
            return exact, reading
        allowed = _allowed_distance(len(reading))
        short = len(reading) == MIN_NEAR_READING - 1 and written is not None and not other_readings(written)
        if not allowed and not short:
            return None
        allowed = allowed or 1
        best: tuple[Term, str, int] | None = None
        candidates = self._near.get((reading[0], len(reading)), []) + self._near.get((reading[-1], -len(reading)), [])
        for candidate, term in candidates:
            if short and written is not None and not _shares_half(written, term.term):
                continue
            distance = Hamming.distance(reading, candidate, score_cutoff=allowed)
            if distance <= allowed and (best is None or distance < best[2]):
                best = (term, candidate, distance)
        return (best[0], best[1]) if best else None

    def _kana_edits(self, text: str, tokens: list[Token], taken: list[tuple[int, int]]) -> list[Edit]:
        """Terms spelled out in kana, found even where the analyser cut the kana elsewhere (ひら|の|くの).

        Exact readings only, starting where a morpheme starts and ending where one ends or a
        particle follows, so the match is a word of its own and not the middle of another.
        """
        starts = {t.start for t in tokens}
        ends = {t.end for t in tokens}
        edits: list[Edit] = []
        for run in _KANA_RUN.finditer(text):
            reading = to_hiragana(run.group())
            position = 0
            while position < len(reading):
                found = None
                if run.start() + position in starts:
                    # A 3-kana name counts only as a whole word: at the start of the kana and
                    # followed by a particle or the end of the kana (くまたの, not やくまたび).
                    shortest = MIN_READING if position == 0 else MIN_KANA_READING
                    for length in range(min(len(reading) - position, self._max_reading), shortest - 1, -1):
                        term = self._exact.get(reading[position : position + length])
                        stop = run.start() + position + length
                        follows = text[stop : stop + 1]
                        whole = follows in _PARTICLES or stop == run.end()
                        if term is None or not (whole or (length >= MIN_KANA_READING and stop in ends)):
                            continue
                        found = (length, term)
                        break
                if found is None:
                    position += 1
                    continue
                length, term = found
                start = run.start() + position
                before = text[start : start + length]
                if before != term.term and not any(start < b and a < start + length for a, b in taken):
                    edits.append(
                        Edit(start, start + length, text[start : start + length], term.term, term.term, "reading")
                    )
                position += length
        return edits

    def _reading_edits(self, text: str, given: list[tuple[int, int]]) -> list[Edit]:
        tokens = tokenize(text)
        edits = self._kana_edits(text, tokens, given)
        taken = given + [(e.start, e.end) for e in edits]
        i = 0
        while i < len(tokens):
            found = self._match_at(tokens, i, text, taken) or self._match_inside_unknown(tokens, i, text, taken)
            if found is None:
                i += 1
                continue
            end_index, edit = found
            if edit is not None:
                edits.append(edit)
                taken.append((edit.start, edit.end))
            else:  # already right: no other pass may touch it
                taken.append((tokens[i].start, tokens[end_index - 1].end))
            i = end_index
        edits += self._alternative_edits(text, tokens, taken)
        # The loose pass may not touch what is already right, but may find a long term over the
        # stricter passes' shorter ones (see _longer_terms_first).
        changed = {(e.start, e.end) for e in edits}
        loose = self._fuzzy_edits(text, tokens, [span for span in taken if span not in changed])
        return self._longer_terms_first(edits, loose)

    @staticmethod
    def _longer_terms_first(edits: list[Edit], loose: list[Edit]) -> list[Edit]:
        """Loose matches where nothing else matched, and over shorter terms matched exactly inside
        them: with the city's dictionary beside a department's, 北区 (きたく) is inside きたく混乱者
        (帰宅困難者) and 国民健康保険 inside 国民健康保健療 (国民健康保険料)."""
        for wide in loose:
            inside = [e for e in edits if wide.start < e.end and e.start < wide.end]
            if all(
                wide.start <= e.start and e.end <= wide.end and e.end - e.start < wide.end - wide.start for e in inside
            ):
                edits = [e for e in edits if e not in inside] + [wide]
        return edits

    def _match_inside_unknown(
        self, tokens: list[Token], i: int, text: str, taken: list[tuple[int, int]]
    ) -> tuple[int, Edit | None] | None:
        """A term whose first sounds Whisper fused with the word before into katakana it could not
        place (はい、此花区 → ハイコの花区): the unknown word's tail starts the term. Only an exact
        reading of MIN_REREAD_READING kana or more that goes on past the unknown word."""
        token = tokens[i]
        if not token.unknown or len(token.surface) < 2 or not is_kana(token.surface):
            return None
        for offset in range(1, len(token.surface)):
            tail = token.surface[offset:]
            cut = Token(tail, to_hiragana(tail), token.pos, token.start + offset, token.end)
            found = self._match_at([*tokens[:i], cut, *tokens[i + 1 :]], i, text, taken)
            if found is None or found[1] is None or found[0] <= i + 1:
                continue
            heard = "".join(t.reading for t in [cut, *tokens[i + 1 : found[0]]])
            if len(heard) >= MIN_REREAD_READING and self._exact.get(heard) is not None:
                return found
        return None

    def _fuzzy_edits(self, text: str, tokens: list[Token], taken: list[tuple[int, int]]) -> list[Edit]:
        """Long terms heard with a sound dropped or added, or with an unreadable kanji (see fuzzy.py).

        Last and loosest pass: only where no other pass matched, never across a number or
        punctuation, never starting on a particle, a verb at an edge only as a hiragana piece
        standing on its own and then at most one sound off, a particle inside the span
        must sound exactly as in the term, and the span must hold a kanji or katakana word.
        """
        if not self._by_edge:
            return []
        return self._scan(text, tokens, taken, self._fuzzy_match)

    def _fuzzy_match(self, tokens: list[Token], i: int) -> _Span | None:
        if tokens[i].pos == "助詞" or _after_number(tokens, i):
            return None
        spelled_start = tokens[i].pos in _NEVER_AT_EDGE
        if spelled_start and not _spelled_out_edge(tokens, i, at_start=True):
            return None
        # What was heard, as the analyser reads it and with short kanji words re-read by their
        # on-readings (両東: りょうひがし, りょうとう); with where particles' sounds sit in each.
        variants: list[tuple[str, tuple[int, ...]]] = [("", ())]
        written = False
        best: tuple[int, int, int, Term] | None = None  # (cost, -length, end index, term)
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS + 1)):
            token = tokens[j]
            if token.pos in _NEVER_INSIDE or token.is_number:
                break
            particle = token.pos == "助詞"
            grown = {
                heard + option: must + (tuple(range(len(heard), len(heard) + len(option))) if particle else ())
                for heard, must in variants
                for option in loose_readings(token)
            }
            variants = list(grown.items())[:MAX_LOOSE_VARIANTS]
            written = written or bool(_KANJI.search(token.surface)) or token.surface != token.reading
            if min(len(h.replace(WILDCARD, "")) for h, _ in variants) > self._max_reading + 2:
                break
            if particle or not written:
                continue
            spelled_end = token.pos in _NEVER_AT_EDGE
            if spelled_end and not _spelled_out_edge(tokens, j, at_start=False):
                continue
            for heard, must_match in variants:
                for cost, term in self._fuzzy_candidates(heard, list(must_match)):
                    if (spelled_start or spelled_end) and cost > 1:
                        continue  # a kana "verb" at the edge is taken for a spelled-out term only when close
                    key = (cost, -(j - i), j, term)
                    if best is None or key[:2] < best[:2]:
                        best = key
        return _Span(tokens[i].start, best[2], tokens[best[2]].end, best[3]) if best else None

    def _fuzzy_candidates(self, heard: str, must_match: list[int]) -> list[tuple[int, Term]]:
        wildcards = heard.count(WILDCARD)
        known = heard.replace(WILDCARD, "")
        if len(known) < MIN_NEAR_READING:
            return []
        pool = self._by_edge.get(heard[0], []) + self._by_edge.get(heard[-1], [])
        out: list[tuple[int, Term]] = []
        seen: set[str] = set()
        for reading, term in pool:
            if reading in seen:
                continue
            seen.add(reading)
            budget = _allowed_distance(len(reading))
            slack = budget + 3 * wildcards
            if not len(known) - budget <= len(reading) <= len(known) + slack:
                continue
            folded = fold_voicing(known), fold_voicing(reading)
            if (not wildcards and known in reading) or Levenshtein.distance(*folded, score_cutoff=slack) > slack:
                continue  # a word heard whole is not stretched into a longer term (保険年金 → 保険年金課)
            aligned = align(heard, reading, budget)
            if aligned is None or aligned.matched < MIN_FUZZY_SHARE * len(reading):
                continue
            if not wildcards and aligned.cost > 1 and _is_subsequence(*folded):
                continue  # only sounds added, more than one: words heard whole (維持向上 is not 舞洲工場)
            if all(aligned.exact[k] for k in must_match):
                out.append((aligned.cost, term))
        return out

    @staticmethod
    def _scan(
        text: str,
        tokens: list[Token],
        taken: list[tuple[int, int]],
        match: Callable[[list[Token], int], _Span | None],
    ) -> list[Edit]:
        """Edits where ``match`` finds a term starting at a token, left to right.

        A span that already reads as the term is kept whole like a corrected one, so no later
        span may cut into it; a span overlapping one taken before is passed over token by token.
        """
        edits: list[Edit] = []
        i = 0
        while i < len(tokens):
            found = match(tokens, i)
            if found is None:
                i += 1
                continue
            if any(found.start < b and a < found.end for a, b in taken):
                i += 1
                continue
            before = text[found.start : found.end]
            if before != found.term.term:
                edits.append(Edit(found.start, found.end, before, found.term.term, found.term.term, "reading"))
            taken.append((found.start, found.end))
            i = found.last_token + (1 if found.end == tokens[found.last_token].end else 0)
        return edits

    def _alternative_edits(self, text: str, tokens: list[Token], taken: list[tuple[int, int]]) -> list[Edit]:
        """Terms read exactly when kanji may take any of their readings (see the module notes)."""
        return self._scan(text, tokens, taken, self._alternative_match)

    def _alternative_match(self, tokens: list[Token], i: int) -> _Span | None:
        first = tokens[i]
        if first.pos == "助詞" or first.is_number or _after_number(tokens, i) or _conjugated_edge(first):
            return None
        best = self._alternative_from(tokens, i, 0)
        # A term may start inside a kanji compound where its own first kanji stands (都区|生会議 → 区政会議).
        for offset in range(1, len(first.surface)):
            if best is not None:
                break
            if _KANJI.match(first.surface[offset]):
                best = self._alternative_from(tokens, i, offset)
        return best

    def _alternative_from(self, tokens: list[Token], i: int, offset: int) -> _Span | None:
        start = tokens[i].start + offset
        states: list[_State] = [_State(self._trie, "", False)]
        best: _Span | None = None
        has_kanji = False
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS + 2)):
            token = tokens[j]
            if token.surface in _INNER_PUNCTUATION and j > i:
                continue
            if token.pos in _NEVER_INSIDE or token.is_number:
                break
            surface = token.surface[offset:] if j == i else token.surface
            has_kanji = has_kanji or bool(_KANJI.search(surface))
            edge_ok = token.pos != "助詞" and not _conjugated_edge(token) and has_kanji
            # ... or end inside a compound where the term's own last kanji stands (上等|区|長 → 城東区).
            for cut in range(1, len(surface)) if _KANJI.match(surface[0]) else ():
                piece = surface[:cut]
                for state in self._advance(states, token_readings(piece), other_readings(piece)):
                    found = state.term()
                    if found is not None and found.term.endswith(piece) and has_kanji:
                        best = _Span(start, j, token.end - len(surface) + cut, found)
            plain = self._readings(token) if surface == token.surface else other_readings(surface)
            states = self._advance(states, tuple(dict.fromkeys((*plain, *token_readings(surface)))), plain)
            if not states:
                break
            if not edge_ok:
                continue
            for state in states:
                found = state.term()
                if found is not None:
                    best = _Span(start, j, token.end, found)
        return best

    @staticmethod
    def _advance(states: list[_State], readings: tuple[str, ...], plain: tuple[str, ...]) -> list[_State]:
        """States reached by any of ``readings`` (compared without voicing marks); ``plain`` are
        the analyser's own reading of the token, any other counts as a re-reading."""
        advanced: list[_State] = []
        seen: set[tuple[int, str]] = set()
        for state in states:
            for reading in readings:
                node: dict[str, Any] | None = state.node
                for kana in fold_voicing(reading):
                    node = node.get(kana) if node is not None else None
                    if node is None:
                        break
                if node is None:
                    continue
                nxt = _State(node, state.heard + reading, state.reread or reading not in plain)
                if (id(node), nxt.heard) not in seen:
                    seen.add((id(node), nxt.heard))
                    advanced.append(nxt)
        return advanced

    @staticmethod
    def _readings(token: Token) -> tuple[str, ...]:
        """The analyser's reading of a token and, for short kanji words, every other it knows."""
        if len(token.surface) <= 2 and _KANJI.search(token.surface):
            return tuple(dict.fromkeys((token.reading, *other_readings(token.surface))))
        return (token.reading,)

    def _match_at(
        self, tokens: list[Token], i: int, text: str, taken: list[tuple[int, int]]
    ) -> tuple[int, Edit | None] | None:
        """The longest span starting at token ``i`` that sounds like a term."""
        if tokens[i].pos in _NEVER_AT_EDGE or _particle_before_kanji(tokens, i):
            return None
        reading = ""
        has_number = False
        particles: list[range] = []  # where particles sit in ``reading``
        best: tuple[int, Term, int] | None = None
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS)):
            token = tokens[j]
            if token.pos in _NEVER_INSIDE:
                break
            has_number = has_number or token.is_number
            if token.pos == "助詞":
                particles.append(range(len(reading), len(reading) + len(token.reading)))
            reading += token.reading
            if len(reading) > self._max_reading + 2:
                break
            if token.pos in _NEVER_AT_EDGE or len(reading) < MIN_READING:
                continue
            match = self._best_term(reading, text[tokens[i].start : token.end] if j > i else None)
            if match is None:
                continue
            term, heard_as = match
            differs = [k for k, (a, b) in enumerate(zip(reading, heard_as, strict=True)) if a != b]
            # A near match may not change a number, nor a particle's sound (対象に is not 大正区,
            # but デンガチャや is 天下茶屋: the や matches exactly).
            if differs and (has_number or _after_number(tokens, i) or any(k in r for k in differs for r in particles)):
                continue
            if best is None or len(differs) <= best[2]:
                best = (j + 1, term, len(differs))
        if best is None:
            return None
        end_index, term, _ = best
        start, end = tokens[i].start, tokens[end_index - 1].end
        if any(start < b and a < end for a, b in taken):
            return None
        before = text[start:end]
        if before == term.term:
            return end_index, None  # already right: keep it from being re-matched by a shorter span
        return end_index, Edit(start, end, before, term.term, term.term, "reading")

"""Short kanji runs read every way the dictionary knows (重操 as じゅう+そう, not おも+みさお), and terms
of 4+ kana looked for read exactly, allowing a 、 or ・ that Whisper put inside a compound (教育委員会、
事務局). Never starts or ends on a particle, never crosses a number, and needs a kanji in the span,
so kana words keep the stricter sound pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dictionaries.passes.index import ReadingIndex
from dictionaries.passes.rules import (
    KANA_CHAR,
    KANJI_CHAR,
    MAX_SPAN_TOKENS,
    MIN_REREAD_READING,
    NEVER_AT_EDGE,
    NEVER_INSIDE,
    after_number,
)
from dictionaries.passes.spans import Span, Taken
from dictionaries.reading import Token, other_readings, token_readings
from dictionaries.terms import Term
from dictionaries.text import fold_voicing

MIN_ALTERNATIVE_READING = 4
_INNER_PUNCTUATION = {"、", "・", "，", "､"}
_TERMINAL = ""  # trie key marking a complete reading


def _conjugated_edge(token: Token) -> bool:
    """A verb, adjective or auxiliary written with kana (来たく, 講じ): a real word's inflection,
    never the edge of a misheard name. A bare kanji the analyser calls an adjective (重 of 重操)
    shows no inflection and may be one."""
    return token.pos in NEVER_AT_EDGE and not (token.pos in {"動詞", "形容詞"} and not KANA_CHAR.search(token.surface))


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


def _readings(token: Token) -> tuple[str, ...]:
    """The analyser's reading of a token and, for short kanji words, every other it knows."""
    if len(token.surface) <= 2 and KANJI_CHAR.search(token.surface):
        return tuple(dict.fromkeys((token.reading, *other_readings(token.surface))))
    return (token.reading,)


class RereadPass:
    def __init__(self, index: ReadingIndex) -> None:
        self._trie: dict[str, Any] = {}
        for reading, term in index.unique(MIN_ALTERNATIVE_READING):
            node = self._trie
            for kana in fold_voicing(reading):
                node = node.setdefault(kana, {})
            node[_TERMINAL] = (term, reading)

    def match(self, text: str, tokens: list[Token], i: int, taken: Taken) -> Span | None:
        first = tokens[i]
        if first.pos == "助詞" or first.is_number or after_number(tokens, i) or _conjugated_edge(first):
            return None
        best = self._match_from(tokens, i, 0)
        # A term may start inside a kanji compound where its own first kanji stands (都区|生会議 → 区政会議).
        for offset in range(1, len(first.surface)):
            if best is not None:
                break
            if KANJI_CHAR.match(first.surface[offset]):
                best = self._match_from(tokens, i, offset)
        return best

    def _match_from(self, tokens: list[Token], i: int, offset: int) -> Span | None:
        start = tokens[i].start + offset
        states: list[_State] = [_State(self._trie, "", False)]
        best: Span | None = None
        has_kanji = False
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS + 2)):
            token = tokens[j]
            if token.surface in _INNER_PUNCTUATION and j > i:
                continue
            if token.pos in NEVER_INSIDE or token.is_number:
                break
            surface = token.surface[offset:] if j == i else token.surface
            has_kanji = has_kanji or bool(KANJI_CHAR.search(surface))
            edge_ok = token.pos != "助詞" and not _conjugated_edge(token) and has_kanji
            # ... or end inside a compound where the term's own last kanji stands (上等|区|長 → 城東区).
            for cut in range(1, len(surface)) if KANJI_CHAR.match(surface[0]) else ():
                piece = surface[:cut]
                for state in _advance(states, token_readings(piece), other_readings(piece)):
                    found = state.term()
                    if found is not None and found.term.endswith(piece) and has_kanji:
                        best = Span(start, j, token.end - len(surface) + cut, found)
            plain = _readings(token) if surface == token.surface else other_readings(surface)
            states = _advance(states, tuple(dict.fromkeys((*plain, *token_readings(surface)))), plain)
            if not states:
                break
            if not edge_ok:
                continue
            for state in states:
                found = state.term()
                if found is not None:
                    best = Span(start, j, token.end, found)
        return best

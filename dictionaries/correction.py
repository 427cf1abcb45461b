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

Each pass is an object of its own in :mod:`dictionaries.passes` (which lists them in order); this
class builds them once per set of dictionaries and runs them.
"""

from __future__ import annotations

from dictionaries.passes.alias import AliasPass
from dictionaries.passes.fused import FusedTailPass
from dictionaries.passes.index import ReadingIndex
from dictionaries.passes.kana import KanaPass
from dictionaries.passes.loose import LoosePass
from dictionaries.passes.reread import RereadPass
from dictionaries.passes.sound import SoundPass
from dictionaries.passes.spans import Edit, Span, Taken, overlaps, scan
from dictionaries.reading import Token, tokenize
from dictionaries.terms import Term, merge_terms

__all__ = ["Corrector", "Edit"]


class Corrector:
    """Built once per set of dictionaries (about 1 s per 10,000 terms without readings); reusable."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = merge_terms(terms)
        index = ReadingIndex(self.terms)
        self._alias = AliasPass(self.terms)
        self._kana = KanaPass(index)
        self._sound = SoundPass(index)
        self._fused = FusedTailPass(index, self._sound)
        self._reread = RereadPass(index)
        self._loose = LoosePass(index)

    def correct(self, text: str) -> tuple[str, list[Edit]]:
        """The corrected text and the edits, with offsets into the original ``text``."""
        edits = self._alias.edits(text)
        edits += self._reading_edits(text, Taken((e.start, e.end) for e in edits))
        edits.sort(key=lambda e: e.start)
        pieces, cursor = [], 0
        for edit in edits:
            pieces += [text[cursor : edit.start], edit.after]
            cursor = edit.end
        pieces.append(text[cursor:])
        return "".join(pieces), edits

    def _reading_edits(self, text: str, taken: Taken) -> list[Edit]:
        tokens = tokenize(text)
        edits = self._kana.edits(text, tokens, taken)
        edits += scan(text, tokens, taken, self._sound_or_fused)
        edits += scan(text, tokens, taken, self._reread.match)
        # The loose pass may not touch what is already right, but may find a long term over the
        # stricter passes' shorter ones (see _longer_terms_first).
        changed = {(e.start, e.end) for e in edits}
        loose = self._loose.edits(text, tokens, taken.without(changed))
        return self._longer_terms_first(edits, loose)

    def _sound_or_fused(self, text: str, tokens: list[Token], i: int, taken: Taken) -> Span | None:
        return self._sound.match(text, tokens, i, taken) or self._fused.match(text, tokens, i, taken)

    @staticmethod
    def _longer_terms_first(edits: list[Edit], loose: list[Edit]) -> list[Edit]:
        """Loose matches where nothing else matched, and over shorter terms matched exactly inside
        them: with the city's dictionary beside a department's, 北区 (きたく) is inside きたく混乱者
        (帰宅困難者) and 国民健康保険 inside 国民健康保健療 (国民健康保険料)."""
        for wide in loose:
            inside = [e for e in edits if overlaps(wide.start, wide.end, e.start, e.end)]
            if all(
                wide.start <= e.start and e.end <= wide.end and e.end - e.start < wide.end - wide.start for e in inside
            ):
                edits = [e for e in edits if e not in inside] + [wide]
        return edits

"""Places where a term was probably said but not written: worth asking the recogniser again.

Reading-based correction (:mod:`dictionaries.correction`) only rewrites what it can prove by sound,
and its guards refuse much that is right (朝引くの for 旭区の: a verb at the edge; 古代ゴミ for 粗大ごみ:
five kana one sound apart). Here the bar is lower because nothing is rewritten: a suspect is a
stretch of text whose reading is close to a term's reading, and the caller re-decodes that audio
with the term in the recogniser's prompt, keeping the new text only if the recogniser now writes
the term itself (see :mod:`transcriber.biasing`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from dictionaries.fuzzy import WILDCARD
from dictionaries.passes.loose import loose_readings
from dictionaries.reading import Token, any_reading, composed_readings, reading_of, tokenize
from dictionaries.terms import Term
from dictionaries.text import fold_long_vowels, fold_voicing, is_kana, to_hiragana

MIN_READING = 3
SPELLED_READING = 2  # a shorter name is a suspect only where Whisper spelled it out (けまや for 毛馬や)
MIN_SIMILARITY = 0.6  # of a term's reading to the best stretch of what was heard (0..1)
# Readings shorter than this must be heard exactly and as whole words: one sound off, a
# four-kana name is a common word (東海林 しょうじ ~ 証明 しょうめい), and inside a word it is
# anywhere (梅香 ばいか in ガバメント).
EXACT_BELOW = 5
MAX_SPAN_TOKENS = 6
MAX_AT_ONE_PLACE = 2
MAX_VARIANTS = 8  # readings of one stretch tried, its tokens read one way or another
UNKNOWN_VARIANTS = 4  # readings tried for a word the analyser cannot read
MIN_SHARED_BIGRAMS = 0.3  # share of a term's kana pairs heard somewhere in the text: a cheap first sieve


@dataclass(frozen=True)
class Suspect:
    term: Term
    start: int  # character offsets in the text
    end: int
    similarity: float


def _reread(token: Token) -> str:
    options = loose_readings(token)
    return options[1] if len(options) > 1 else token.reading


def _options(token: Token) -> tuple[str, ...]:
    """A token as the analyser reads it and, for names, unknown words and lone kanji, also by its
    kanji's on-readings (両東: りょうとう, not りょうひがし; 先: せん, not さき). A word the analyser
    cannot read at all is read kanji by kanji every way the dictionary knows, a character with no
    reading standing for one sound (予讼側: 讼 is Chinese, 側 がわ as in 淀川)."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in token.reading):
        composed = composed_readings(token.surface, any_reading, WILDCARD, UNKNOWN_VARIANTS)
        return tuple(dict.fromkeys(_by_sound(r) for r in composed)) or (WILDCARD,)
    return tuple(dict.fromkeys(_by_sound(r) for r in (token.reading, _reread(token))))


# Kana that sound alike as particles (何は, なにわ): compared as one.
_PARTICLE_SOUNDS = str.maketrans("わを", "はお")


def _by_sound(reading: str) -> str:
    return fold_long_vowels(fold_voicing(reading).translate(_PARTICLE_SOUNDS))


def _term_sound(term: Term) -> str:
    return _by_sound(term.reading or reading_of(term.term))


def _spelled_out(tokens: list[Token]) -> list[Token]:
    """Runs of interjections cut into single kana: Whisper spells a name it does not know by its
    sounds (けまやいたかの for 毛馬や井高野), and the analyser makes interjections of them (け|ま|やい),
    whose edges need not be the name's."""
    out: list[Token] = []
    for k, token in enumerate(tokens):
        in_run = any(0 <= j < len(tokens) and tokens[j].pos == "感動詞" for j in (k - 1, k + 1))
        if token.pos != "感動詞" or not in_run or not is_kana(token.surface):
            out.append(token)
            continue
        out += [
            Token(ch, to_hiragana(ch), token.pos, token.start + n, token.start + n + 1)
            for n, ch in enumerate(token.surface)
        ]
    return out


def _spelled(token: Token) -> bool:
    """One kana cut from a run of interjections by :func:`_spelled_out`."""
    return token.pos == "感動詞" and len(token.surface) == 1 and is_kana(token.surface)


def _bigrams(reading: str) -> set[str]:
    return {reading[k : k + 2] for k in range(len(reading) - 1)}


class SuspectFinder:
    """Built once per set of terms; :meth:`find` takes one utterance's text."""

    def __init__(self, terms: list[Term], min_similarity: float = MIN_SIMILARITY) -> None:
        self.min_similarity = min_similarity
        self._readings: list[tuple[Term, str]] = []
        self._written = {term.term for term in terms}
        self._longest = max((len(t) for t in self._written), default=0)
        self._by_bigram: dict[str, list[int]] = defaultdict(list)
        self._spelled: dict[str, list[Term]] = defaultdict(list)  # short readings, heard only spelled out
        for term in terms:
            reading = _term_sound(term)
            if SPELLED_READING <= len(reading) < MIN_READING:
                self._spelled[reading].append(term)
            if len(reading) < MIN_READING:
                continue
            for bigram in _bigrams(reading):
                self._by_bigram[bigram].append(len(self._readings))
            self._readings.append((term, reading))
        self._longest_reading = max((len(r) for _, r in self._readings), default=0)

    def find(self, text: str) -> list[Suspect]:
        """Suspects in ``text``, best first; at most MAX_AT_ONE_PLACE cover any one character (a
        place that sounds a little like two terms is asked about both: 会場都区 for 大正区 or 城東区)."""
        tokens = _spelled_out([t for t in tokenize(text) if t.pos not in {"補助記号", "空白"}])
        options = [_options(t) for t in tokens]
        best: dict[int, Suspect] = {}
        for suspect in self._find_in(text, tokens, options) + self._find_spelled(text, tokens):
            index = id(suspect.term)
            if index not in best or suspect.similarity > best[index].similarity:
                best[index] = suspect
        found = list(best.values())
        found.sort(key=lambda s: (-s.similarity, s.start))
        taken = self._written_spans(text)  # a term already written is no suspect's place
        kept: list[Suspect] = []
        for suspect in found:
            if any(suspect.start < end and start < suspect.end for start, end in taken):
                continue
            if sum(1 for k in kept if suspect.start < k.end and k.start < suspect.end) < MAX_AT_ONE_PLACE:
                kept.append(suspect)
        return kept

    def _written_spans(self, text: str) -> list[tuple[int, int]]:
        return [
            (start, end)
            for start in range(len(text))
            for end in range(start + 1, min(len(text), start + self._longest) + 1)
            if text[start:end] in self._written
        ]

    def _find_spelled(self, text: str, tokens: list[Token]) -> list[Suspect]:
        """Short names heard exactly in a name spelled by its sounds: whole kana of a run of
        interjections (け|ま|や|い|た|か|の: 毛馬), never a word of its own (出 or 野田 written)."""
        found: list[Suspect] = []
        for first in range(len(tokens)):
            heard = ""
            for last in range(first, min(len(tokens), first + MIN_READING - 1)):  # one kana a token
                if not _spelled(tokens[last]) or (last > first and tokens[last].start != tokens[last - 1].end):
                    break
                heard += _by_sound(tokens[last].reading)
                for term in self._spelled.get(heard, ()):
                    if term.term not in text:
                        found.append(Suspect(term, tokens[first].start, tokens[last].end, 1.0))
        return found

    def _find_in(self, text: str, tokens: list[Token], options: list[tuple[str, ...]]) -> list[Suspect]:
        """For each term sharing enough kana pairs with the text, the run of whole tokens whose
        reading is closest to the term's (fewest tokens on a tie, so no particle is taken in)."""
        # The whole text read the analyser's way and the other way: enough kana pairs for the sieve.
        readings = ("".join(o[0] for o in options), "".join(o[-1] for o in options))
        shared: dict[int, int] = defaultdict(int)
        for bigram in _bigrams(readings[0]) | _bigrams(readings[1]):
            for candidate in self._by_bigram.get(bigram, ()):
                shared[candidate] += 1
        candidates = [
            self._readings[c]
            for c, count in shared.items()
            if count >= MIN_SHARED_BIGRAMS * (len(self._readings[c][1]) - 1) and self._readings[c][0].term not in text
        ]
        spans: list[tuple[int, int, str]] = []
        for first in range(len(options)):
            variants, numbers = [""], 0
            for last in range(first, min(len(options), first + MAX_SPAN_TOKENS)):
                variants = [v + o for v in variants for o in options[last]][:MAX_VARIANTS]
                numbers += len(options[last][0]) if tokens[last].is_number else 0
                if min(len(v) for v in variants) > self._longest_reading + 2:
                    break
                # Digits may be a name heard as a number (数字1000 for なにわ筋線), but a stretch that
                # is mostly number is a number said (12 is no 十三).
                if 2 * numbers <= len(variants[0]):
                    spans += [(first, last, v) for v in variants]
        if not candidates or not spans:
            return []
        distances = process.cdist(
            [reading for _, reading in candidates], [heard for _, _, heard in spans], scorer=Levenshtein.distance
        )
        # Fewest edits, then fewest tokens: a neighbour that matches by chance is not taken in
        # (ます|つい契約: the す of ます "matches" the ず of ずいい).
        widths = np.array([last - first for first, last, _ in spans])
        ranked = distances * (MAX_SPAN_TOKENS + 1) + widths
        found: list[Suspect] = []
        for (term, reading), row, best in zip(candidates, distances, ranked.argmin(axis=1), strict=True):
            first, last, heard = spans[best]
            similarity = 1.0 - float(row[best]) / max(len(reading), len(heard))
            if similarity < (1.0 if len(reading) < EXACT_BELOW else self.min_similarity):
                continue
            found.append(Suspect(term, tokens[first].start, tokens[last].end, round(similarity, 3)))
        return found


def sounded_at_start(text: str, term: Term, max_lead: int) -> tuple[int, int] | None:
    """The stretch of whole words at the start of ``text`` (after at most ``max_lead`` characters)
    that sounds exactly like ``term``, if any: Whisper shown 要介護認定 may still spell it by sound
    (はよを介護認定). Short readings never count: one sound is too easily a common word."""
    target = _term_sound(term)
    if len(target) < EXACT_BELOW:
        return None
    tokens = [t for t in tokenize(text) if t.pos not in {"補助記号", "空白"}]
    for first, token in enumerate(tokens):
        if token.start > max_lead:
            break
        heard = ""
        for last in range(first, len(tokens)):
            heard += tokens[last].reading
            if _by_sound(heard) == target:
                return token.start, tokens[last].end
            if len(heard) >= len(target) + 2:
                break
    return None

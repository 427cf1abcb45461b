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

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from dictionaries.correction import loose_readings
from dictionaries.reading import Token, reading_of, tokenize
from dictionaries.terms import Term, fold_voicing

MIN_READING = 3
MIN_SIMILARITY = 0.6  # of a term's reading to the best stretch of what was heard (0..1)
# Readings shorter than this must be heard exactly and as whole words: one sound off, a
# four-kana name is a common word (東海林 しょうじ ~ 証明 しょうめい), and inside a word it is
# anywhere (梅香 ばいか in ガバメント).
EXACT_BELOW = 5
MAX_SPAN_TOKENS = 6
MIN_SHARED_BIGRAMS = 0.4  # share of a term's kana pairs heard somewhere in the text: a cheap first sieve


@dataclass(frozen=True)
class Suspect:
    term: Term
    start: int  # character offsets in the text
    end: int
    similarity: float


def _reread(token: Token) -> str:
    options = loose_readings(token)
    return options[1] if len(token.surface) > 1 and len(options) > 1 else token.reading


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
        for term in terms:
            reading = fold_voicing(term.reading or reading_of(term.term))
            if len(reading) < MIN_READING:
                continue
            for bigram in _bigrams(reading):
                self._by_bigram[bigram].append(len(self._readings))
            self._readings.append((term, reading))
        self._longest_reading = max((len(r) for _, r in self._readings), default=0)

    def find(self, text: str) -> list[Suspect]:
        """Suspects in ``text``, best first, none overlapping another."""
        tokens = [t for t in tokenize(text) if t.pos not in {"補助記号", "空白"}]
        # As the analyser reads it, and with names and unknown words re-read by their kanji's
        # on-readings (両東: りょうとう, not りょうひがし).
        heard_as = [[t.reading for t in tokens], [_reread(t) for t in tokens]]
        best: dict[int, Suspect] = {}
        for readings in heard_as if heard_as[1] != heard_as[0] else heard_as[:1]:
            for suspect in self._find_in(text, tokens, readings):
                index = id(suspect.term)
                if index not in best or suspect.similarity > best[index].similarity:
                    best[index] = suspect
        found = list(best.values())
        found.sort(key=lambda s: (-s.similarity, s.start))
        taken = self._written_spans(text)  # a term already written is no suspect's place
        kept: list[Suspect] = []
        for suspect in found:
            if all(suspect.end <= start or end <= suspect.start for start, end in taken):
                kept.append(suspect)
                taken.append((suspect.start, suspect.end))
        return kept

    def _written_spans(self, text: str) -> list[tuple[int, int]]:
        return [
            (start, end)
            for start in range(len(text))
            for end in range(start + 1, min(len(text), start + self._longest) + 1)
            if text[start:end] in self._written
        ]

    def _find_in(self, text: str, tokens: list[Token], readings: list[str]) -> list[Suspect]:
        """For each term sharing enough kana pairs with the text, the run of whole tokens whose
        reading is closest to the term's (fewest tokens on a tie, so no particle is taken in)."""
        folded = [fold_voicing(r) for r in readings]
        shared: dict[int, int] = defaultdict(int)
        for bigram in _bigrams("".join(folded)):
            for candidate in self._by_bigram.get(bigram, ()):
                shared[candidate] += 1
        candidates = [
            self._readings[c]
            for c, count in shared.items()
            if count >= MIN_SHARED_BIGRAMS * (len(self._readings[c][1]) - 1) and self._readings[c][0].term not in text
        ]
        spans: list[tuple[int, int, str]] = []
        for first in range(len(folded)):
            heard = ""
            for last in range(first, min(len(folded), first + MAX_SPAN_TOKENS)):
                heard += folded[last]
                if len(heard) > self._longest_reading + 2:
                    break
                spans.append((first, last, heard))
        if not candidates or not spans:
            return []
        distances = process.cdist(
            [reading for _, reading in candidates], [heard for _, _, heard in spans], scorer=Levenshtein.distance
        )
        found: list[Suspect] = []
        for (term, reading), row in zip(candidates, distances, strict=True):
            # Fewest edits, then fewest tokens: a neighbour that matches by chance is not taken in
            # (ます|つい契約: the す of ます "matches" the ず of ずいい).
            best = min(range(len(spans)), key=lambda k: (row[k], spans[k][1] - spans[k][0]))
            first, last, heard = spans[best]
            similarity = 1.0 - float(row[best]) / max(len(reading), len(heard))
            if similarity < (1.0 if len(reading) < EXACT_BELOW else self.min_similarity):
                continue
            found.append(Suspect(term, tokens[first].start, tokens[last].end, round(similarity, 3)))
        return found

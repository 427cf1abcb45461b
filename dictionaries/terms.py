"""The terminology model: a term as the minutes must write it, with its reading and known misspellings."""

from __future__ import annotations

from dataclasses import dataclass, field

# A term's reading is checked and stored with these; callers that take them with Term import them here.
from dictionaries.text import is_kana as is_kana
from dictionaries.text import to_hiragana as to_hiragana


@dataclass(frozen=True)
class Term:
    term: str  # the written form the minutes must show
    reading: str = ""  # hiragana; empty when the clerk did not give one
    aliases: tuple[str, ...] = field(default_factory=tuple)  # known wrong forms
    category: str = ""

    def __post_init__(self) -> None:
        if not self.term.strip():
            raise ValueError("term is empty")


def fold_in(earlier: Term, later: Term) -> Term:
    """A repeated row of one term folded into the first: its aliases added, blanks filled."""
    aliases = tuple(dict.fromkeys((*earlier.aliases, *later.aliases)))
    return Term(earlier.term, earlier.reading or later.reading, aliases, earlier.category or later.category)


def merge_terms(terms: list[Term]) -> list[Term]:
    """One term per written form and reading, in first-seen order: a department's list and the
    city's often both hold 此花区, and two rows of one term must not look like two terms sharing a
    reading (which the corrector leaves alone)."""
    merged: dict[tuple[str, str], Term] = {}
    for term in terms:
        key = (term.term, term.reading)
        merged[key] = fold_in(merged[key], term) if key in merged else term
    return list(merged.values())

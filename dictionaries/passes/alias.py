"""Known wrong forms (a term's aliases) replaced by the term, wherever they are written."""

from __future__ import annotations

import re

from dictionaries.passes.spans import Edit
from dictionaries.terms import Term


def _safe_alias(alias: str, term: str) -> bool:
    if len(alias) < 2 or alias in term:
        return False
    return not alias.isascii()  # "13" or "IT" are ordinary text far more often than misheard terms


class AliasPass:
    """The first pass: the longest alias wins where two start at one place."""

    def __init__(self, terms: list[Term]) -> None:
        self._aliases = {alias: term for term in terms for alias in term.aliases if _safe_alias(alias, term.term)}
        pattern = "|".join(re.escape(a) for a in sorted(self._aliases, key=len, reverse=True))
        self._alias_re = re.compile(pattern) if pattern else None

    def edits(self, text: str) -> list[Edit]:
        if self._alias_re is None:
            return []
        return [
            Edit(m.start(), m.end(), m.group(), self._aliases[m.group()].term, self._aliases[m.group()].term, "alias")
            for m in self._alias_re.finditer(text)
        ]

"""The city-wide default dictionary shipped with kiroku (written from public knowledge of Osaka)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dictionaries.csv_io import read_csv
from dictionaries.terms import Term

CITY_DICTIONARY = Path(__file__).parent / "data" / "osaka_city.csv"
# Names that select the built-in dictionary wherever a dictionary file is expected.
CITY_NAMES = {"city", "osaka", "大阪市"}


@lru_cache(maxsize=1)
def city_terms() -> tuple[Term, ...]:
    """The 24 wards, hard-to-read place names, bureaus, 区役所 sections, welfare and tax words."""
    return tuple(read_csv(CITY_DICTIONARY).terms)

"""GiNZA (spaCy's Japanese pipeline on SudachiPy), loaded once per process from its installed wheel.

Only the tokenizer, the token vectors and the named-entity recogniser run: the dependency parser and
the morphologizer cost as much again and the detector reads entities only. Loading takes a few
seconds and about 300 MB; it happens on the first detection, not at import.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MODEL = "ja_ginza"
_EXCLUDED = ["parser", "morphologizer", "compound_splitter", "bunsetu_recognizer", "attribute_ruler"]
_lock = threading.Lock()
_loaded: list[Any] = []


class NlpUnavailable(RuntimeError):
    """GiNZA or its model is not installed: the personal-data detector cannot run."""


@dataclass(frozen=True)
class Entity:
    start: int  # character offsets in the analysed text
    end: int
    label: str  # GiNZA's extended named-entity label: Person, City, Province, Date, Phone_Number …


def pipeline() -> Any:
    """The loaded GiNZA pipeline (loaded on first use, then shared by every caller of this process)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            try:
                import spacy

                _loaded.append(spacy.load(MODEL, exclude=_EXCLUDED))
            except (ImportError, OSError) as error:
                raise NlpUnavailable(
                    f"GiNZA model {MODEL!r} cannot be loaded ({error}); install it with "
                    "`pip install --no-deps ginza==5.3.0 ja-ginza==5.3.0` (see docs/personal_data.md)"
                ) from error
            # The model's millions of objects live as long as the process: out of the cyclic
            # collector's way, whose full passes over them held every request of the API up to
            # 0.3 s (bench/service_load.py).
            gc.collect()
            gc.freeze()
    return _loaded[0]


def entities(texts: Sequence[str]) -> list[list[Entity]]:
    """Named entities of each text (one batch through the pipeline)."""
    if not texts:
        return []
    docs = pipeline().pipe(list(texts), batch_size=64)
    return [[Entity(e.start_char, e.end_char, str(e.label_)) for e in doc.ents] for doc in docs]

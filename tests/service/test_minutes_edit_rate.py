"""Saving very long minutes costs bounded work, and the edit rate (characters the clerks changed) stays
exact for minutes of ordinary size (issue 23: 4 M characters took 28 s of edit distance on every save).

No timing here: the work is measured as what each edit-distance computation is given (length ×
length); bench/minutes_save.py times the save.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein
from sqlmodel import Session

from service.edit_rate import changed_characters
from service.models import Recording, SearchDocument
from service.search import background
from tests.service.conftest import World
from tests.web.transcripts import store_finished

R = "/api/v1/recordings"
MOST_WORK = 10**9  # length × length of any one edit-distance computation (the old save: 4·10^12 at 2 M)
KANA = "あいうえおかきくけこさしすせそたちつてと予算会議市民区役所、。"
exact = Levenshtein.distance


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The work each edit-distance computation is given; one beyond ``MOST_WORK`` fails at once."""
    given_work: list[int] = []

    def measured(a: str, b: str, **kwargs: Any) -> int:
        given_work.append(len(a) * len(b))
        assert len(a) * len(b) <= MOST_WORK, f"an edit distance of {len(a):,} × {len(b):,} characters"
        return int(exact(a, b, **kwargs))

    monkeypatch.setattr(Levenshtein, "distance", measured)
    yield given_work


def _utterances(count: int, length: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(KANA) for _ in range(length)) for _ in range(count)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="あいう予算。", max_size=12), max_size=8),
    st.lists(st.text(alphabet="あいう予算。", max_size=12), max_size=8),
)
def test_the_count_is_the_edit_distance_for_ordinary_minutes(before: list[str], after: list[str]) -> None:
    assert changed_characters(before, after) == exact("".join(before), "".join(after))


def test_an_hour_of_minutes_edited_throughout_is_counted_exactly() -> None:
    rng = random.Random(3)
    before = _utterances(600, 40, seed=1)  # 24,000 characters: an hour's meeting
    after = list(before)
    for index in rng.sample(range(len(after)), 80):  # corrections all over, a split and a merge
        text = after[index]
        cut = rng.randrange(len(text))
        after[index] = text[:cut] + rng.choice(["課長", "", "令和7年"]) + text[cut + 1 :]
    after[100:102] = [after[100] + after[101]]
    after[300:301] = [after[300][:20], after[300][20:]]
    assert changed_characters(before, after) == exact("".join(before), "".join(after))


def test_saving_minutes_of_two_million_characters_stays_within_bounded_work(
    world: World, service_env: dict[str, str], work: list[int]
) -> None:
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    texts = _utterances(20_000, 100, seed=2)  # 2 M characters
    machine = {
        "schema": "kiroku.transcript/1",
        "duration": 20_000 * 4.0,
        "segments": [{"start": 4.0 * i, "end": 4.0 * i + 3, "speaker": "S1", "text": t} for i, t in enumerate(texts)],
    }
    recording_id = store_finished(world.engine, storage, "clerk_kita", "長い会議", machine)
    clerk = world.client("clerk_kita")
    minutes = clerk.get(f"{R}/{recording_id}/minutes")
    body = minutes.json()
    segments = body["transcript"]["segments"]
    segments[0]["text"] = "本日は" + segments[0]["text"][3:]  # 3 characters replaced at the start,
    segments[10_000]["text"] += "(拍手)"  # 4 added in the middle, 1 removed at the end
    segments[-1]["text"] = segments[-1]["text"][:-1]
    saved = clerk.put(f"{R}/{recording_id}/minutes", json=body, headers={"If-Match": minutes.headers["ETag"]})
    assert saved.status_code == 200, saved.text[:300]
    with Session(world.engine) as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        assert recording.machine_chars == 2_000_000
        assert recording.edited_chars == 3 + 4 + 1  # 本日は, (拍手) and the last character: none in KANA
    assert work and max(work) <= MOST_WORK
    # Minutes this long are indexed after the save answered; the search then finds the saved words.
    assert background.wait(timeout=600)
    with Session(world.engine) as db:
        document = db.get(SearchDocument, recording_id)
        assert document is not None and document.revision == 1
    found = clerk.get("/api/v1/search", params={"q": "本日は"}).json()
    assert [item["recording_id"] for item in found["items"]] == [recording_id]

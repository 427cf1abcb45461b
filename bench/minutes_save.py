"""Saving very long minutes: seconds per save through the API, and the edit count's share of it.

Issue 23 measured 28 s per save of minutes of 4 M characters, spent on the edit distance between the
machine transcript and the minutes (the dashboard's edit rate); ``service.edit_rate`` bounds that
work. This saves minutes of ``--chars`` characters (utterances of 100) three times through the API,
on SQLite in a temporary folder, with a few corrections each time, and prints the seconds.

    nice -n 10 .venv/bin/python -m bench.minutes_save                 # 4 M characters
    nice -n 10 .venv/bin/python -m bench.minutes_save --compare       # and the old full edit distance
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import Engine

KANA = "あいうえおかきくけこさしすせそたちつてと予算会議市民区役所、。"
PASSWORD = "bench-password-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=4_000_000)
    parser.add_argument("--saves", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also time the full edit distance (tens of seconds)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiroku-minutes-"))
    os.environ.update(
        {
            "KIROKU_DATABASE_URL": f"sqlite:///{tmp / 'kiroku.db'}",
            "KIROKU_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
            "KIROKU_STORAGE_DIR": str(tmp / "storage"),
        }
    )
    # Imported once the environment names the temporary service (settings are read on first use).
    from fastapi.testclient import TestClient
    from rapidfuzz.distance import Levenshtein
    from sqlmodel import Session, select

    from api.app import create_app
    from service.accounts import add_user
    from service.bootstrap import prepare
    from service.edit_rate import changed_characters
    from service.models import Recording, Role, TranscriptRecord, User
    from service.settings import get_settings

    prepare(get_settings())
    rng = random.Random(4)
    count = max(1, args.chars // 100)
    texts = ["".join(rng.choice(KANA) for _ in range(100)) for _ in range(count)]
    segments = [{"start": 4.0 * i, "end": 4.0 * i + 3, "speaker": "S1", "text": t} for i, t in enumerate(texts)]
    with Session(prepare_engine()) as db:
        add_user(db, "bench", Role.clerk, "議事録試験課", PASSWORD)
        user = db.exec(select(User).where(User.name == "bench")).one()
        recording = Recording(department_id=user.department_id, title="長い会議", uploaded_by_id=user.id)
        db.add(recording)
        db.flush()
        assert recording.id is not None
        body = {"schema": "kiroku.transcript/1", "duration": count * 4.0, "segments": segments}
        db.add(TranscriptRecord(recording_id=recording.id, body=body, model="bench"))
        db.commit()
        recording_id = recording.id

    client = TestClient(create_app())
    login = client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
    login.raise_for_status()
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    url = f"/api/v1/recordings/{recording_id}/minutes"
    print(f"minutes of {count * 100:,} characters ({count:,} utterances)")
    for save in range(1, args.saves + 1):
        current = client.get(url)
        minutes = current.json()
        edited = minutes["transcript"]["segments"]
        for index in rng.sample(range(count), 5):  # a clerk's corrections, anywhere
            edited[index]["text"] = "訂正" + edited[index]["text"][2:]
        started = time.perf_counter()
        saved = client.put(url, json=minutes, headers={"If-Match": current.headers["ETag"]})
        took = time.perf_counter() - started
        saved.raise_for_status()
        with Session(prepare_engine()) as db:
            stored = db.get(Recording, recording_id)
            assert stored is not None
            rate = f"{stored.edited_chars:,} of {stored.machine_chars:,} characters changed"
        print(f"save {save}: {took:.2f} s through the API ({rate})")
    after = [s["text"] for s in edited]
    started = time.perf_counter()
    count_now = changed_characters(texts, after)
    print(f"edit count alone: {time.perf_counter() - started:.2f} s ({count_now:,} characters)")
    if args.compare:
        started = time.perf_counter()
        full = Levenshtein.distance("".join(texts), "".join(after))
        print(f"the full edit distance it replaces: {time.perf_counter() - started:.2f} s ({full:,} characters)")


def prepare_engine() -> Engine:
    from service.db import get_engine

    return get_engine()


if __name__ == "__main__":
    main()

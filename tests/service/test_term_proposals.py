"""辞書に追加: a clerk's correction becomes a proposed term, accepted in one step, and the department's
next recording gets the word right."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from dictionaries.correction import Corrector
from dictionaries.reading import reading_of
from service.dictionaries import terms_for
from service.models import AuditEvent, Dictionary, DictionaryTerm, Recording
from tests.service.conftest import World
from tests.service.test_search import transcribed

P = "/api/v1/term-proposals"


def _corrected(world: World, recording_id: int, text: str) -> str:
    with Session(world.engine) as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        return Corrector(terms_for(db, recording)).correct(text)[0]


def _forget_city_term(world: World, surface: str) -> None:
    """The shipped city dictionary knows 放出 already; without it the department must learn it."""
    with Session(world.engine) as db:
        for row in db.exec(select(DictionaryTerm).where(DictionaryTerm.surface == surface)).all():
            db.delete(row)
        db.commit()


def test_accepted_correction_fixes_the_next_recording(world: World, service_env: dict[str, str]) -> None:
    _forget_city_term(world, "放出")
    clerk = world.client("clerk_kita")
    first = transcribed(world, service_env, "clerk_kita", ["花天駅の近くの公園です。"], correct=True)
    assert (
        clerk.get(f"/api/v1/recordings/{first}/transcript").json()["segments"][0]["text"] == "花天駅の近くの公園です。"
    )
    assert _corrected(world, first, "花天の交差点") == "花天の交差点"

    created = clerk.post(
        f"/api/v1/recordings/{first}/term-proposals",
        json={"before": "花天", "after": "放出", "segment": 0, "start": 0, "end": 2, "category": "地名"},
    )
    assert created.status_code == 201, created.text
    proposal = created.json()
    assert proposal["term"] == "放出" and proposal["alias"] == "花天" and proposal["status"] == "proposed"
    assert proposal["reading"] == reading_of("花天")  # pre-filled from what the recogniser wrote
    assert proposal["recording_id"] == first and (proposal["segment"], proposal["start"], proposal["end"]) == (0, 0, 2)
    again = clerk.post(f"/api/v1/recordings/{first}/term-proposals", json={"before": "花天", "after": "放出"})
    assert again.status_code == 200 and again.json()["id"] == proposal["id"]  # one proposal per correction

    listed = world.client("manager_kita").get(P, params={"status": "proposed"}).json()["items"]
    assert [p["id"] for p in listed] == [proposal["id"]] and listed[0]["proposed_by"] == "clerk_kita"
    accepted = world.client("manager_kita").post(f"{P}/{proposal['id']}/accept", json={"reading": "はなてん"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted" and body["reading"] == "はなてん"
    assert body["dictionary"]["name"] == "北区役所 保健福祉課 用語"
    with Session(world.engine) as db:
        row = db.get(DictionaryTerm, body["dictionary_term_id"])
        assert row is not None and (row.surface, row.reading, row.aliases, row.category) == (
            "放出",
            "はなてん",
            ["花天"],
            "地名",
        )
    assert clerk.post(f"{P}/{proposal['id']}/accept").status_code == 409
    assert clerk.post(f"{P}/{proposal['id']}/reject").status_code == 409

    # The next recording of the department: the worker's terms now carry the word.
    assert _corrected(world, first, "花天の交差点") == "放出の交差点"
    second = transcribed(world, service_env, "clerk_kita", ["花天で降りてください。"], correct=True)
    transcript = clerk.get(f"/api/v1/recordings/{second}/transcript").json()
    assert transcript["segments"][0]["text"] == "放出で降りてください。"
    assert transcript["corrections"][0]["before"] == "花天" and transcript["corrections"][0]["after"] == "放出"
    # Another department has not learned it.
    theirs = transcribed(world, service_env, "clerk_zaisei", ["花天で降りてください。"], correct=True)
    assert _corrected(world, theirs, "花天の交差点") == "花天の交差点"

    stats = clerk.get(f"{P}/stats").json()
    assert [(s["department"], s["accepted"], s["proposed"], s["rejected"]) for s in stats] == [
        ("北区役所 保健福祉課", 1, 0, 0)
    ]
    with Session(world.engine) as db:
        actions = [
            e.action for e in db.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("term_"))).all()
        ]
    assert actions == ["term_proposal.create", "term_proposal.accept"]


def _propose(client: Any, recording_id: int, before: str, after: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/recordings/{recording_id}/term-proposals", json={"before": before, "after": after, **extra}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_proposals_rules_departments_and_counts(world: World, service_env: dict[str, str]) -> None:
    kita, zaisei = world.client("clerk_kita"), world.client("clerk_zaisei")
    mine = transcribed(world, service_env, "clerk_kita", ["クマタの会館で。"])
    theirs = transcribed(world, service_env, "clerk_zaisei", ["税務の件です。"])

    kana = _propose(kita, mine, "クマタ", "杭全")
    assert kana["reading"] == "くまた"  # kana as heard is the reading
    for bad in ({"before": "同じ", "after": "同じ"}, {"before": " ", "after": "x"}, {"before": "x"}):
        assert kita.post(f"/api/v1/recordings/{mine}/term-proposals", json=bad).status_code == 422
    refused = kita.post(
        f"/api/v1/recordings/{mine}/term-proposals", json={"before": "a", "after": "b", "reading": "X1"}
    )
    assert refused.status_code == 422
    # Another department's recording and proposals do not exist for this clerk.
    assert (
        kita.post(f"/api/v1/recordings/{theirs}/term-proposals", json={"before": "a", "after": "b"}).status_code == 404
    )
    foreign = _propose(zaisei, theirs, "税夢", "税務")
    assert kita.post(f"{P}/{foreign['id']}/accept").status_code == 404
    assert kita.post(f"{P}/{foreign['id']}/reject").status_code == 404
    assert [p["id"] for p in kita.get(P).json()["items"]] == [kana["id"]]
    assert {p["id"] for p in world.client("root_admin").get(P).json()["items"]} == {kana["id"], foreign["id"]}

    # Rejected: nothing is added. Accepted into a chosen dictionary: merged with the term already there.
    wrong = _propose(kita, mine, "会館", "開館")
    rejected = kita.post(f"{P}/{wrong['id']}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    chosen = kita.post("/api/v1/dictionaries", json={"name": "地名"}).json()
    kita.post(f"/api/v1/dictionaries/{chosen['id']}/terms", json={"term": "杭全", "reading": "", "aliases": ["熊田"]})
    city = next(d for d in kita.get("/api/v1/dictionaries").json() if d["city_wide"])
    assert kita.post(f"{P}/{kana['id']}/accept", json={"dictionary_id": city["id"]}).status_code == 422
    merged = kita.post(f"{P}/{kana['id']}/accept", json={"dictionary_id": chosen["id"]})
    assert merged.status_code == 200, merged.text
    terms = kita.get(f"/api/v1/dictionaries/{chosen['id']}").json()["terms"]
    assert [(t["term"], t["reading"], t["aliases"]) for t in terms] == [("杭全", "くまた", ["熊田", "クマタ"])]
    with Session(world.engine) as db:
        assert not db.exec(select(Dictionary).where(col(Dictionary.name).endswith(" 用語"))).all()

    counts = {s["department"]: (s["accepted"], s["proposed"], s["rejected"]) for s in kita.get(f"{P}/stats").json()}
    assert counts == {"北区役所 保健福祉課": (1, 0, 1)}
    every = {s["department"]: s["proposed"] for s in world.client("root_admin").get(f"{P}/stats").json()}
    assert every == {"北区役所 保健福祉課": 0, "財政局 税務部": 1}

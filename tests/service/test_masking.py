"""公開用: personal-data candidates on a written corpus (recall, and ordinary numbers left alone), and the
publication copy through the API (candidates, decisions, manual spans, stale copies, exports, audit)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlmodel import Session, col, select

from service.masking import KINDS, MASK, find_personal_data, mask, name_variants
from service.models import AuditEvent, DictionaryTerm, PublicationCopy
from tests.service.conftest import World
from tests.service.test_search import transcribed

CORPUS = Path(__file__).resolve().parents[1] / "data" / "masking_corpus.jsonl"
R = "/api/v1/recordings"


def _corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _span(text: str, part: str) -> range:
    start = text.find(part)
    assert start >= 0, (part, text)
    return range(start, start + len(part))


def test_corpus_recall_and_no_masking_of_ordinary_numbers() -> None:
    corpus = _corpus()
    with_data = [item for item in corpus if item.get("personal")]
    assert len(corpus) >= 50 and len(with_data) >= 25 and len(corpus) - len(with_data) >= 20
    found = expected = 0
    missed: list[str] = []
    wrongly: list[str] = []
    by_kind: dict[str, int] = {}
    for item in corpus:
        text = item["text"]
        names = [v for s in item.get("speakers", []) for v in name_variants(s)] + item.get("dictionary_names", [])
        covered = {k for c in find_personal_data(text, names) for k in range(c.start, c.end)}
        for part, written_kind in item.get("personal", []):
            kind = "address" if written_kind == "postal" else written_kind  # a postal code is part of an address
            assert kind in KINDS
            by_kind[kind] = by_kind.get(kind, 0) + 1
            expected += 1
            if set(_span(text, part)) <= covered:
                found += 1
            else:
                missed.append(f"{kind} {part} in {text}")
        for part in item.get("keep", []):
            if set(_span(text, part)) & covered:
                wrongly.append(f"{part} in {text}")
    assert {"name", "address", "phone", "mynumber", "email"} <= set(by_kind)
    assert found / expected >= 0.95, f"recall {found}/{expected}; missed: {missed}"
    assert not wrongly, f"ordinary text masked: {wrongly}"


def test_mask_keeps_the_length() -> None:
    text = "電話は06-6208-7111、担当は佐藤さんです。"
    spans = [(c.start, c.end) for c in find_personal_data(text)]
    masked = mask(text, spans)
    assert len(masked) == len(text) and "7111" not in masked and "佐藤" not in masked
    assert masked == "電話は" + MASK * 12 + "、担当は" + MASK * 2 + "さんです。"


@pytest.fixture
def recorded(world: World, service_env: dict[str, str]) -> int:
    """A kita recording whose speakers were named in the minutes (revision 1)."""
    recording_id = transcribed(
        world,
        service_env,
        "clerk_kita",
        [
            "区民の佐藤さんから電話がありました。",
            "折り返しは06-6208-7111、住所は北区中之島1丁目3番20号です。",
            "予算は3億4,500万円、第9条に基づきます。",
            "長谷部さんには田中から連絡します。",
        ],
        speakers=["S1", "S2"],
    )
    clerk = world.client("clerk_kita")
    minutes = clerk.get(f"{R}/{recording_id}/minutes")
    body = minutes.json()
    body["transcript"]["speakers"] = [{"id": "S1", "name": "田中課長"}, {"id": "S2", "name": "区民"}]
    body["header"]["attendees"] = "田中課長、佐藤"
    saved = clerk.put(f"{R}/{recording_id}/minutes", json=body, headers={"If-Match": minutes.headers["ETag"]})
    assert saved.status_code == 200, saved.text
    return recording_id


def _texts(view: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["target"], s["text"]): s for s in view["spans"]}


def test_publication_copy_through_the_api(world: World, recorded: int) -> None:
    clerk = world.client("clerk_kita")
    base = f"{R}/{recorded}/publication"
    missing = clerk.get(base)  # not made yet: a state, not an error
    assert missing.status_code == 204 and missing.headers["X-Kiroku-State"] == "no_publication"
    # 人名 terms of the department's dictionaries are names too.
    dictionary = clerk.post("/api/v1/dictionaries", json={"name": "関係者"}).json()
    added = clerk.post(f"/api/v1/dictionaries/{dictionary['id']}/terms", json={"term": "長谷部", "category": "人名"})
    assert added.status_code == 201

    created = clerk.post(base)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"p1"'
    view = created.json()
    spans = _texts(view)
    # An official named with their title (田中課長) speaks in their role: neither the speaker label nor
    # the attendee is a candidate; every candidate says why it was proposed.
    assert {k: s["kind"] for k, s in spans.items()} == {
        ("header.attendees", "佐藤"): "name",
        ("segment.0", "佐藤"): "name",
        ("segment.1", "06-6208-7111"): "phone",
        ("segment.1", "北区中之島1丁目3番20号"): "address",
        ("segment.3", "長谷部"): "name",
        ("segment.3", "田中"): "name",
    }
    assert all(s["status"] == "proposed" and s["source"] == "auto" and s["reason"] for s in view["spans"])
    preview = view["preview"]
    assert preview["segments"][1]["text"] == "折り返しは" + MASK * 12 + "、住所は" + MASK * 13 + "です。"
    assert preview["segments"][0]["text"] == "区民の" + MASK * 2 + "さんから電話がありました。"  # a role is no name
    assert preview["speakers"][1]["name"] == "区民"
    assert preview["segments"][2]["text"] == "予算は3億4,500万円、第9条に基づきます。"  # numbers stay
    assert preview["speakers"][0]["name"] == "田中課長" and not view["stale"]

    # Decisions: an official's name is disclosed (rejected everywhere at once), one span confirmed,
    # a word added by hand wherever it occurs, and a range added by hand.
    assert clerk.put(base, json={}).status_code == 428
    assert clerk.put(base, json={}, headers={"If-Match": '"p9"'}).status_code == 409
    phone = spans[("segment.1", "06-6208-7111")]["id"]
    edit = {
        "by_text": [{"text": "田中課長", "status": "rejected"}, {"text": "田中", "status": "rejected"}],
        "changes": [{"id": phone, "status": "confirmed"}],
        "add": [{"text": "中之島"}, {"target": "segment.2", "start": 0, "end": 2}],
    }
    edited = clerk.put(base, json=edit, headers={"If-Match": '"p1"'})
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == '"p2"'
    view = edited.json()
    assert view["counts"] == {"proposed": 4, "confirmed": 3, "rejected": 1, "manual": 2, "total": 8}
    assert view["preview"]["speakers"][0]["name"] == "田中課長"
    assert view["preview"]["segments"][2]["text"] == MASK * 2 + "は3億4,500万円、第9条に基づきます。"
    manual = [s for s in view["spans"] if s["source"] == "manual"]
    bad = [
        {"add": [{"target": "segment.99", "start": 0, "end": 1}]},
        {"add": [{"target": "segment.0", "start": 3, "end": 300}]},
        {"add": [{"start": 1}]},
        {"changes": [{"id": "s999", "status": "rejected"}]},
        {"remove": [phone]},  # automatic candidates are rejected, not removed
    ]
    for body in bad:
        assert clerk.put(base, json=body, headers={"If-Match": '"p2"'}).status_code == 422, body
    removed = clerk.put(base, json={"remove": [manual[1]["id"]]}, headers={"If-Match": '"p2"'})
    assert removed.status_code == 200 and removed.json()["counts"]["manual"] == 1

    # Exports are masked; the minutes themselves are unchanged.
    txt = clerk.get(f"{base}/export", params={"format": "txt"})
    assert txt.status_code == 200 and "publication-" in txt.headers["content-disposition"]
    assert "06-6208-7111" not in txt.text and "佐藤" not in txt.text and "長谷部" not in txt.text
    assert MASK * 12 in txt.text and "田中課長" in txt.text and "3億4,500万円" in txt.text
    docx = clerk.get(f"{base}/export", params={"format": "docx"})
    document = Document(io.BytesIO(docx.content))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for row in document.tables[0].rows for c in row.cells]
    assert "06-6208-7111" not in paragraphs and MASK * 12 in paragraphs and "○田中課長\u3000" in paragraphs
    assert "田中課長、" + MASK * 2 in cells
    minutes = clerk.get(f"{R}/{recorded}/minutes").json()
    assert "06-6208-7111" in minutes["transcript"]["segments"][1]["text"]
    assert minutes["transcript"]["speakers"][1]["name"] == "区民"

    # The minutes change: the copy is stale until refreshed; decisions and manual spans carry over.
    page = clerk.get(f"{R}/{recorded}/minutes")
    body = page.json()
    body["transcript"]["segments"].insert(0, {"start": 0, "end": 1, "speaker": "S1", "text": "山本様の件です。"})
    assert (
        clerk.put(f"{R}/{recorded}/minutes", json=body, headers={"If-Match": page.headers["ETag"]}).status_code == 200
    )
    stale = clerk.get(base).json()
    assert stale["stale"] and stale["revision"] == 3
    assert stale["preview"]["segments"][1]["text"].startswith("折り返しは" + MASK * 12)  # the revision it was made for
    assert clerk.get(f"{base}/export").status_code == 409
    assert clerk.put(base, json={}, headers={"If-Match": '"p3"'}).status_code == 409
    refreshed = clerk.post(base)
    assert refreshed.status_code == 200 and refreshed.headers["ETag"] == '"p4"'
    view = refreshed.json()
    spans = _texts(view)
    assert not view["stale"] and view["lost"] == 0
    assert spans[("segment.0", "山本")]["status"] == "proposed"
    assert spans[("segment.2", "06-6208-7111")]["status"] == "confirmed"  # moved with its utterance
    assert spans[("segment.4", "田中")]["status"] == "rejected"
    assert spans[("segment.2", "中之島")]["source"] == "manual"
    assert clerk.get(f"{base}/export", params={"format": "txt"}).status_code == 200

    # Another department's clerk sees nothing; deletion takes the copy with it; all of it is audited.
    assert world.client("clerk_zaisei").get(base).status_code == 404
    assert world.client("clerk_zaisei").post(base).status_code == 404
    with Session(world.engine) as db:
        events = db.exec(select(AuditEvent).where(AuditEvent.recording_id == recorded)).all()
        actions = [e.action for e in events if e.action.startswith("publication") or e.detail == "publication"]
        assert actions == [
            "publication.create",
            "publication.edit",
            "publication.edit",
            "publication.export",
            "publication.export",
            "recording.view",
            "publication.refresh",
            "publication.export",
        ]
        assert not any("佐藤" in e.detail or "7111" in e.detail for e in events)
    assert clerk.delete(f"{R}/{recorded}").status_code == 204
    with Session(world.engine) as db:
        assert db.exec(select(PublicationCopy).where(col(PublicationCopy.recording_id) == recorded)).first() is None
        assert db.exec(select(DictionaryTerm).where(DictionaryTerm.surface == "長谷部")).first() is not None

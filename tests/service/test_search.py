"""Full-text search: normalisation (width, kana, kanji numerals), ranking, snippets with offsets and the
place to jump to, the index following transcripts, minutes and deletions, and department scopes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from dictionaries.correction import Corrector
from dictionaries.terms import Term
from service.models import AuditEvent, Job, SearchDocument, TranscriptRecord
from service.search import SearchError, kanji_numerals, normalise, query_terms
from tests.conftest import SINGLE
from tests.service.conftest import World, run_queued_job
from transcriber.terminology import apply_terms
from transcriber.transcript import Segment, Speaker, Transcript

R = "/api/v1/recordings"
S = "/api/v1/search"


def fake_transcriber(
    texts: list[str], speakers: list[str] | None = None, correct: bool = False
) -> Callable[..., Transcript]:
    """What the pipeline would return for a recording that says ``texts`` (one utterance each, 10 s apart);
    ``correct``: with the worker's terms applied as the real pipeline applies them."""

    def transcribe(path: Path, progress: Callable[[str, float], None], terms: list[Term], hints: Any) -> Transcript:
        ids = speakers or ["S1"]
        segments = [
            Segment(start=10.0 * k, end=10.0 * k + 8, speaker=ids[k % len(ids)], text=t) for k, t in enumerate(texts)
        ]
        segments, corrections = apply_terms(segments, Corrector(terms)) if correct else (segments, [])
        return Transcript(
            duration=10.0 * len(texts),
            speakers=[Speaker(id=i) for i in ids],
            segments=segments,
            corrections=corrections,
            model="fake",
        )

    return transcribe


def transcribed(
    world: World,
    service_env: dict[str, str],
    user: str,
    texts: list[str],
    *,
    title: str = "",
    speakers: list[str] | None = None,
    correct: bool = False,
) -> int:
    """A recording uploaded by ``user`` and transcribed by the worker (which also indexes it)."""
    client = world.client(user)
    with SINGLE.open("rb") as handle:
        created = client.post(
            R, files={"file": (SINGLE.name, handle, "audio/flac")}, data={"kind": "meeting", "title": title}
        )
    assert created.status_code == 201, created.text
    recording = created.json()
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    done = run_queued_job(world.engine, recording["job_id"], fake_transcriber(texts, speakers, correct), storage)
    assert done == "succeeded"
    return int(recording["id"])


def test_normalisation_meets_across_widths_kana_and_numerals() -> None:
    assert {normalise(q).text for q in ("9条", "９条", "九条")} == {"9条"}
    assert normalise("第十一条").text == "第11条"
    assert normalise("三億四千五百万円").text == normalise("3億4,500万円").text == "3億4500万円"
    assert normalise("二〇二五年").text == normalise("２０２５年").text == "2025年"
    assert normalise("令和七年四月一日").text == "令和7年4月1日"
    assert normalise("粗大ゴミ").text == normalise("粗大ごみ").text
    assert normalise("ｶﾞｽ料金").text == normalise("ガス料金").text == "がす料金"
    assert normalise("予算、 執行").text == "予算執行"
    assert kanji_numerals("千", after_digit=True) == "千"  # 3千人 stays 3千人
    assert normalise("3千人").text == "3千人"
    # Every normalised character knows where it came from.
    shown = "第　十一条（ｶﾞｽ）"
    norm = normalise(shown)
    start = norm.text.index("11条")
    assert shown[slice(*norm.original_span(start, start + 3))] == "十一条"
    start = norm.text.index("がす")
    assert shown[slice(*norm.original_span(start, start + 2))] == "ｶﾞｽ"
    assert query_terms("　予算　ＮＰＯ 予算 ") == ["予算", "npo"]
    for bad in ("", "  ", "税", "予算 の"):
        with pytest.raises(SearchError):
            query_terms(bad)


def _search(client: Any, q: str, **params: Any) -> dict[str, Any]:
    response = client.get(S, params={"q": q, **params})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_search_ranks_highlights_follows_edits_and_keeps_departments_apart(
    world: World, service_env: dict[str, str]
) -> None:
    kita = "clerk_kita"
    many = transcribed(
        world,
        service_env,
        kita,
        ["本日は条例の改正についてです。", "第九条の規定により審査します。", "９条の改正案は九条第二項も含みます。"],
        title="条例改正の説明会",
    )
    one = transcribed(world, service_env, kita, ["これより会議を始めます。", "予算の執行状況と、第9条の扱いです。"])
    other = transcribed(world, service_env, kita, ["粗大ゴミの収集日について。", "三億四千五百万円の補正予算です。"])
    theirs = transcribed(world, service_env, "clerk_zaisei", ["第九条について税務部で確認します。"])

    clerk = world.client(kita)
    found = _search(clerk, "9条")
    assert [item["recording_id"] for item in found["items"]] == [many, one]  # more matches rank first
    assert found["complete"] and found["total"] == 2 and found["terms"] == ["9条"]
    top = found["items"][0]
    assert top["hits"] == 2 and top["counts"] == {"9条": 3} and top["source"] == "transcript"
    assert top["segment"] == 2 and top["start"] == 20.0 and top["speaker"] == "S1"  # the utterance with two matches
    marked = [top["text"][a:b] for a, b in top["highlights"]]
    assert marked == ["９条", "九条"]
    assert [m["segment"] for m in top["matches"]] == [2, 1]
    assert [found["items"][1]["text"][a:b] for a, b in found["items"][1]["highlights"]] == ["9条"]
    assert _search(clerk, "九条")["total"] == _search(clerk, "９条")["total"] == 2

    # Width, kana and amounts written either way; several words must all be found; the title counts.
    assert [i["recording_id"] for i in _search(clerk, "粗大ごみ")["items"]] == [other]
    assert [i["recording_id"] for i in _search(clerk, "3億4500万円")["items"]] == [other]
    assert [i["recording_id"] for i in _search(clerk, "予算 ９条")["items"]] == [one]
    titled = _search(clerk, "説明会")["items"]
    assert [i["recording_id"] for i in titled] == [many]
    assert titled[0]["segment"] is None and titled[0]["field"] == "title" and titled[0]["text"] == "条例改正の説明会"
    assert _search(clerk, "存在しない語句")["items"] == []
    refused = clerk.get(S, params={"q": "条"})
    assert refused.status_code == 422 and "2文字以上" in refused.json()["detail"]

    # Another department's records are never found; an admin finds every department's.
    assert theirs not in {i["recording_id"] for i in _search(world.client("manager_kita"), "第9条")["items"]}
    assert [i["recording_id"] for i in _search(world.client("clerk_zaisei"), "九条")["items"]] == [theirs]
    assert {i["recording_id"] for i in _search(world.client("root_admin"), "9条")["items"]} == {many, one, theirs}

    # Saved minutes replace the machine transcript in the index at once.
    minutes = clerk.get(f"{R}/{one}/minutes")
    body = minutes.json()
    body["transcript"]["segments"][1]["text"] = "予算の執行状況と、第十条の扱いです。"
    saved = clerk.put(f"{R}/{one}/minutes", json=body, headers={"If-Match": minutes.headers["ETag"]})
    assert saved.status_code == 200, saved.text
    assert [i["recording_id"] for i in _search(clerk, "9条")["items"]] == [many]
    edited = _search(clerk, "１０条")["items"]
    assert [i["recording_id"] for i in edited] == [one] and edited[0]["source"] == "minutes"
    assert edited[0]["revision"] == 1

    # A deleted recording leaves the index.
    assert clerk.delete(f"{R}/{many}").status_code == 204
    assert _search(clerk, "9条")["items"] == []
    with Session(world.engine) as db:
        assert db.get(SearchDocument, many) is None
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "search")).all()
    assert events and all("条" not in e.detail for e in events)  # the trail never holds the query


def test_search_indexes_what_was_stored_before_the_index(world: World, service_env: dict[str, str]) -> None:
    recording_id = transcribed(world, service_env, "clerk_kita", ["杭全の公園について。"])
    with Session(world.engine) as db:  # as if stored before migration 0003: not in the index
        from service.search import _remove

        _remove(db, recording_id)
        db.commit()
        stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording_id)).one()
        assert stored.body["segments"][0]["text"] == "杭全の公園について。"
        assert db.exec(select(Job).where(col(Job.recording_id) == recording_id)).one().status == "succeeded"
    found = _search(world.client("clerk_kita"), "杭全")
    assert [i["recording_id"] for i in found["items"]] == [recording_id] and found["pending"] == 0

"""Mutation tests of service/publication.py (issue 28): making and refreshing a 公開用 copy, a copy gone
stale when the minutes change, the clerk's decisions and manual spans, refusals, exports and their
audit. The personal-data finder is replaced by one that finds the names it is given and phone
numbers (GiNZA's own findings are test_masking's and test_personal_data's subject)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from service.errors import ServiceError
from service.masking import MASK
from service.models import AuditEvent, Dictionary, DictionaryTerm, MinutesRevision, PublicationCopy, Recording
from service.models import TranscriptRecord as Transcript
from service.personal_data import Candidate
from service.publication import (
    PublicationEdit,
    apply_edit,
    copy_of,
    create_or_refresh,
    export_copy,
    minutes_at,
    save_edit,
    span_counts,
    state,
)
from tests.service.test_mutation_recordings import Quick, ident, open_quick

PHONE = re.compile(r"\d{2,4}-\d{2,4}-\d{3,4}")


def _find(text: str, names: Iterable[str] = ()) -> list[Candidate]:
    found = [Candidate(m.start(), m.end(), "phone", m.group(), "電話番号") for m in PHONE.finditer(text)]
    for name in names:
        found += [Candidate(m.start(), m.end(), "name", name, "人名") for m in re.finditer(re.escape(name), text)]
    return sorted(found, key=lambda c: c.start)


def _find_texts(texts: Sequence[str], names: Iterable[str] = ()) -> list[list[Candidate]]:
    return [_find(text, list(names)) for text in texts]


@pytest.fixture
def quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Quick]:
    monkeypatch.setattr("service.masking.find_personal_data", _find)
    monkeypatch.setattr("service.masking.detect_texts", _find_texts)
    yield from open_quick(tmp_path, monkeypatch)


TEXTS = ["長谷部さんの件です。", "電話は06-6208-7111です。", "予算は3億円です。"]


def _transcript(texts: list[str]) -> dict[str, Any]:
    return {
        "schema": "kiroku.transcript/1",
        "duration": 30.0,
        "speakers": [{"id": "S1"}],
        "segments": [{"start": 10.0 * k, "end": 10.0 * k + 8, "speaker": "S1", "text": t} for k, t in enumerate(texts)],
    }


def _recording(quick: Quick, texts: list[str] | None = TEXTS) -> Recording:
    recording = quick.recording(title="区民相談", kind="meeting")
    if texts is not None:
        with Session(quick.engine) as db:
            db.add(Transcript(recording_id=ident(recording), body=_transcript(texts)))
            db.commit()
    return recording


def _names_dictionary(quick: Quick, owner: str = "clerk_kita") -> None:
    with Session(quick.engine) as db:
        dictionary = Dictionary(name="関係者", department_id=quick.department(owner))
        db.add(dictionary)
        db.flush()
        db.add(DictionaryTerm(dictionary_id=ident(dictionary), surface="長谷部", aliases=["長谷辺"], category="人名"))
        db.add(DictionaryTerm(dictionary_id=ident(dictionary), surface="予算", category="一般"))
        db.commit()


def _save_minutes(quick: Quick, recording: Recording, number: int, texts: list[str]) -> None:
    body = {"header": {"title": "区民相談"}, "transcript": _transcript(texts)}
    with Session(quick.engine) as db:
        db.add(MinutesRevision(recording_id=ident(recording), number=number, body=body))
        db.commit()


def _create(quick: Quick, recording: Recording, who: str = "clerk_kita") -> tuple[PublicationCopy, bool]:
    with Session(quick.engine) as db:
        copy, created = create_or_refresh(db, quick.caller(who), recording, ip="10.0.0.3")
        db.expunge(copy)
        return copy, created


def _spans(copy: PublicationCopy) -> list[tuple[str, str, str]]:
    return [(s["target"], s["text"], s["status"]) for s in copy.body["spans"]]


def _events(quick: Quick, prefix: str = "publication.") -> list[tuple[str, str, int | None, str]]:
    with Session(quick.engine) as db:
        rows = db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        return [(e.action, e.detail, e.user_id, e.ip) for e in rows if e.action.startswith(prefix)]


def test_a_copy_needs_a_transcript(quick: Quick) -> None:
    recording = _recording(quick, None)
    with pytest.raises(ServiceError) as refused:
        _create(quick, recording)
    error = refused.value
    assert (error.status, error.code, error.message) == (409, "not_ready", "文字起こしはまだ完了していません。")
    with Session(quick.engine) as db:
        assert copy_of(db, ident(recording)) is None and minutes_at(db, recording, 0) is None


def test_a_new_copy_proposes_the_departments_names_and_phone_numbers(quick: Quick) -> None:
    _names_dictionary(quick)
    _names_dictionary(quick, "clerk_zaisei")  # another department's dictionary names nobody here
    recording = _recording(quick, [*TEXTS, "長谷辺さんにも伝えます。"])
    copy, created = _create(quick, recording)
    assert created is True and (copy.revision, copy.minutes_revision) == (1, 0)
    assert copy.updated_by_id == quick.users["clerk_kita"].id and copy.recording_id == recording.id
    assert _spans(copy) == [
        ("segment.0", "長谷部", "proposed"),
        ("segment.1", "06-6208-7111", "proposed"),
        ("segment.3", "長谷辺", "proposed"),  # the term's wrong form is a name too
    ]
    assert _events(quick) == [("publication.create", "minutes 0 candidates 3 lost 0", copy.updated_by_id, "10.0.0.3")]
    with Session(quick.engine) as db:
        shown = state(db, recording, copy)
    assert (shown.current_minutes_revision, shown.stale) == (0, False)
    assert shown.masked["transcript"]["segments"][1]["text"] == "電話は" + MASK * 12 + "です。"
    assert span_counts(copy.body) == {"proposed": 3, "confirmed": 0, "rejected": 0, "manual": 0, "total": 3}


def test_a_copy_goes_stale_when_the_minutes_change_and_a_refresh_keeps_the_decisions(quick: Quick) -> None:
    recording = _recording(quick)
    copy, _ = _create(quick, recording)
    phone = copy.body["spans"][0]["id"]
    edit = PublicationEdit.model_validate({"changes": [{"id": phone, "status": "confirmed"}]})
    with Session(quick.engine) as db:
        copy = save_edit(db, quick.caller("manager_kita"), recording, copy, edit, ip="10.0.0.4")
        db.expunge(copy)
    assert copy.revision == 2 and copy.updated_by_id == quick.users["manager_kita"].id
    _save_minutes(quick, recording, 1, ["前置きです。", *TEXTS[1:], "田中 090-1234-5678"])
    with Session(quick.engine) as db:
        stale = state(db, recording, copy)
        assert (stale.current_minutes_revision, stale.stale) == (1, True)
        # A stale copy shows the minutes it was made on (the machine transcript), masked as decided.
        assert stale.masked["transcript"]["segments"][0]["text"] == "長谷部さんの件です。"
        assert stale.masked["transcript"]["segments"][1]["text"] == "電話は" + MASK * 12 + "です。"
        assert stale.masked["header"]["title"] == "区民相談"  # the header entered at upload, too
        with pytest.raises(ServiceError) as refused:
            save_edit(db, quick.caller("clerk_kita"), recording, copy, PublicationEdit(), ip="")
        assert (refused.value.status, refused.value.code) == (409, "stale_publication")
        assert refused.value.message.startswith("議事録が更新されています。")
        with pytest.raises(ServiceError) as export_refused:
            export_copy(db, quick.caller("clerk_kita"), recording, "txt", ip="")
        assert export_refused.value.code == "stale_publication"
    refreshed, created = _create(quick, recording, "manager_kita")
    assert created is False and (refreshed.revision, refreshed.minutes_revision) == (3, 1)
    assert refreshed.updated_by_id == quick.users["manager_kita"].id
    assert _spans(refreshed) == [
        ("segment.1", "06-6208-7111", "confirmed"),  # the decision stays with its utterance
        ("segment.3", "090-1234-5678", "proposed"),
    ]
    assert _events(quick)[-1] == (
        "publication.refresh",
        "minutes 1 candidates 2 lost 0",
        refreshed.updated_by_id,
        "10.0.0.3",
    )
    with Session(quick.engine) as db:
        assert state(db, recording, refreshed).stale is False
        assert minutes_at(db, recording, 1) is not None and minutes_at(db, recording, 2) is None
        assert len(db.exec(select(PublicationCopy)).all()) == 1


def test_a_refresh_that_loses_to_another_save_is_refused(quick: Quick, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = _recording(quick)
    copy, _ = _create(quick, recording)
    import service.publication as publication

    real = publication.copy_of

    def read_then_someone_saves(db: Session, recording_id: int) -> PublicationCopy | None:
        found = real(db, recording_id)
        with Session(quick.engine) as other:
            row = other.get(PublicationCopy, copy.id)
            assert row is not None
            row.revision += 1
            other.add(row)
            other.commit()
        return found

    monkeypatch.setattr(publication, "copy_of", read_then_someone_saves)
    with pytest.raises(ServiceError) as refused:
        _create(quick, recording)
    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert refused.value.message == "他の人が同時に公開用を更新しました。読み込み直してください。"


def _fields() -> dict[str, str]:
    return {"header.title": "佐藤の会", "segment.0": "佐藤さんと佐藤さん", "segment.1": "予算"}


def _body() -> dict[str, Any]:
    spans = [
        {
            "id": "s1",
            "target": "segment.0",
            "start": 0,
            "end": 2,
            "text": "佐藤",
            "source": "auto",
            "status": "proposed",
        },
        {
            "id": "s2",
            "target": "segment.0",
            "start": 5,
            "end": 7,
            "text": "佐藤",
            "source": "auto",
            "status": "proposed",
        },
        {
            "id": "s3",
            "target": "segment.1",
            "start": 0,
            "end": 2,
            "text": "予算",
            "source": "manual",
            "status": "confirmed",
        },
    ]
    return {"spans": spans, "next_id": 4}


def test_decisions_by_id_and_by_text_are_counted() -> None:
    body = _body()
    edit = PublicationEdit.model_validate(
        {"changes": [{"id": "s1", "status": "rejected"}], "by_text": [{"text": "佐藤", "status": "confirmed"}]}
    )
    counts = apply_edit(edit, body, _fields())
    assert counts == {"proposed": 0, "confirmed": 2, "rejected": 1, "added": 0, "removed": 0}
    assert [s["status"] for s in body["spans"]] == ["confirmed", "confirmed", "confirmed"]
    with pytest.raises(ServiceError) as unknown:
        apply_edit(PublicationEdit.model_validate({"changes": [{"id": "s9", "status": "rejected"}]}), body, _fields())
    assert (unknown.value.status, unknown.value.code, unknown.value.message) == (
        422,
        "unknown_span",
        "範囲 s9 はありません。",
    )


def test_a_word_added_by_hand_is_masked_wherever_it_occurs() -> None:
    body = _body()
    counts = apply_edit(PublicationEdit.model_validate({"add": [{"text": "佐藤"}]}), body, _fields())
    assert counts["added"] == 3
    added = [(s["target"], s["start"], s["end"]) for s in body["spans"] if s["id"] in ("s4", "s5", "s6")]
    assert sorted(added) == [("header.title", 0, 2), ("segment.0", 0, 2), ("segment.0", 5, 7)]
    ranged = apply_edit(
        PublicationEdit.model_validate({"add": [{"target": "segment.1", "start": 0, "end": 1}]}), body, _fields()
    )
    assert ranged["added"] == 1
    assert [(s["start"], s["end"]) for s in body["spans"] if s["text"] == "予"] == [(0, 1)]
    for bad in ({"target": "segment.9", "start": 0, "end": 1}, {"target": "segment.1", "start": 1, "end": 3}, {}):
        with pytest.raises(ServiceError) as refused:
            apply_edit(PublicationEdit.model_validate({"add": [bad]}), body, _fields())
        assert (refused.value.status, refused.value.code) == (422, "invalid_span"), bad
    assert refused.value.message == "追加する範囲 (target, start, end) か文字列 (text) を指定してください。"


def test_only_a_manual_span_can_be_removed() -> None:
    body = _body()
    assert apply_edit(PublicationEdit.model_validate({"remove": ["s3"]}), body, _fields())["removed"] == 1
    assert [s["id"] for s in body["spans"]] == ["s1", "s2"]
    for span_id in ("s1", "s3"):
        with pytest.raises(ServiceError) as refused:
            apply_edit(PublicationEdit.model_validate({"remove": [span_id]}), body, _fields())
        assert (refused.value.status, refused.value.code) == (422, "unknown_span")
        assert refused.value.message.startswith(f"手動で追加した範囲 {span_id} はありません。")


def test_a_save_that_loses_to_another_is_refused_and_a_save_is_audited(quick: Quick) -> None:
    recording = _recording(quick)
    copy, _ = _create(quick, recording)
    edit = PublicationEdit.model_validate(
        {"by_text": [{"text": "長谷部", "status": "rejected"}], "add": [{"text": "3億円"}]}
    )
    with Session(quick.engine) as db:
        saved = save_edit(db, quick.caller("clerk_kita"), recording, copy, edit, ip="10.0.0.5")
        db.expunge(saved)
        with pytest.raises(ServiceError) as late:
            save_edit(db, quick.caller("manager_kita"), recording, copy, PublicationEdit(), ip="")  # read at p1
    assert (late.value.status, late.value.code) == (409, "conflict")
    assert late.value.message == "他の人が同時に公開用を保存しました。最新の版を読み込んでください。"
    assert saved.revision == 2 and _spans(saved)[-1] == ("segment.2", "3億円", "confirmed")
    clerk = quick.users["clerk_kita"].id
    assert _events(quick)[-1] == (
        "publication.edit",
        "revision 2 proposed 0 confirmed 0 rejected 0 added 1 removed 0",
        clerk,
        "10.0.0.5",
    )


def test_an_export_is_masked_marked_and_audited_without_the_masked_text(quick: Quick) -> None:
    recording = _recording(quick)
    with Session(quick.engine) as db, pytest.raises(ServiceError) as missing:
        export_copy(db, quick.caller("clerk_kita"), recording, "txt", ip="")
    assert (missing.value.status, missing.value.code) == (409, "no_publication")
    assert missing.value.message == "公開用はまだ作成されていません。先に作成してください。"
    copy, _ = _create(quick, recording)
    reject = PublicationEdit.model_validate({"by_text": [{"text": "06-6208-7111", "status": "rejected"}]})
    with Session(quick.engine) as db:
        save_edit(db, quick.caller("clerk_kita"), recording, copy, reject, ip="")
        text = export_copy(db, quick.caller("clerk_kita"), recording, "txt", ip="10.0.0.6").decode("utf-8")
        docx = export_copy(db, quick.caller("clerk_kita"), recording, "docx", tidy=True, ip="")
        untimed = export_copy(db, quick.caller("clerk_kita"), recording, "txt", timestamps=False, ip="")
    assert "公開用" in text and "06-6208-7111" in text  # the rejected candidate is disclosed
    assert "00:00:10" in text and "00:00:10" not in untimed.decode("utf-8")
    assert docx[:2] == b"PK"
    exports = [e for e in _events(quick) if e[0] == "publication.export"]
    assert exports[0] == (
        "publication.export",
        "txt revision 2 masked 0 unreviewed 0",
        quick.users["clerk_kita"].id,
        "10.0.0.6",
    )
    assert exports[1][1] == "docx revision 2 masked 0 unreviewed 0"


def test_a_stale_copy_shows_its_own_recordings_earlier_minutes(quick: Quick) -> None:
    other = _recording(quick, ["別件の相談です。"])
    _save_minutes(quick, other, 1, ["別件の議事録です。"])  # another recording's revision 1, saved first
    recording = _recording(quick)
    _save_minutes(quick, recording, 1, ["本件の議事録です。"])
    copy, _ = _create(quick, recording)
    _save_minutes(quick, recording, 2, ["本件の議事録(改)です。"])
    with Session(quick.engine) as db:
        shown = state(db, recording, copy)
        assert minutes_at(db, other, 2) is None
    assert (shown.stale, shown.current_minutes_revision) == (True, 2)
    assert [s["text"] for s in shown.masked["transcript"]["segments"]] == ["本件の議事録です。"]


def test_an_export_is_verbatim_unless_tidied_and_a_word_export_uses_the_kinds_template(quick: Quick) -> None:
    from docx import Document

    recording = _recording(quick, ["えー、予算は3億円です。", "電話は06-6208-7111です。"])
    template = Document()
    template.add_paragraph("北区役所 {{種類}}")
    template.add_paragraph("{{本文}}")
    (quick.storage / "templates").mkdir()
    template.save(str(quick.storage / "templates" / "meeting.docx"))  # the meeting kind's Word template
    _create(quick, recording)
    with Session(quick.engine) as db:
        said = export_copy(db, quick.caller("clerk_kita"), recording, "txt", ip="").decode("utf-8")
        tidied = export_copy(db, quick.caller("clerk_kita"), recording, "txt", tidy=True, ip="").decode("utf-8")
        docx = export_copy(db, quick.caller("clerk_kita"), recording, "docx", ip="")
    assert "えー、予算は3億円です。" in said and "えー" not in tidied and "予算は3億円です。" in tidied
    assert "06-6208-7111" not in said and MASK * 12 in said  # a candidate nobody reviewed stays masked
    written = Document(io.BytesIO(docx))
    paragraphs = [p.text for p in written.paragraphs]
    assert "北区役所 会議録" in paragraphs  # the template's text, its placeholder filled for a meeting
    assert any("予算は3億円です。" in p for p in paragraphs)
    # The audit trail says how much was masked and how much nobody has reviewed yet.
    details = [detail for action, detail, _, _ in _events(quick) if action == "publication.export"]
    assert details == [
        "txt revision 1 masked 1 unreviewed 1",
        "txt revision 1 masked 1 unreviewed 1",
        "docx revision 1 masked 1 unreviewed 1",
    ]


def test_a_refused_edit_leaves_the_copy_as_read_and_a_save_stores_the_copys_own_fields(quick: Quick) -> None:
    recording = _recording(quick)
    copy, _ = _create(quick, recording)
    fields = set(copy.body)
    phone = copy.body["spans"][0]["id"]
    half_bad = PublicationEdit.model_validate(
        {"changes": [{"id": phone, "status": "rejected"}, {"id": "s999", "status": "rejected"}]}
    )
    with Session(quick.engine) as db:
        with pytest.raises(ServiceError) as refused:
            save_edit(db, quick.caller("clerk_kita"), recording, copy, half_bad, ip="")
        assert refused.value.code == "unknown_span"
        assert [s["status"] for s in copy.body["spans"]] == ["proposed"]  # nothing half-applied
        confirm = PublicationEdit.model_validate({"changes": [{"id": phone, "status": "confirmed"}]})
        saved = save_edit(db, quick.caller("clerk_kita"), recording, copy, confirm, ip="")
        assert set(saved.body) == fields and [s["status"] for s in saved.body["spans"]] == ["confirmed"]


def test_two_decisions_of_one_kind_count_twice() -> None:
    body = _body()
    edit = PublicationEdit.model_validate(
        {"changes": [{"id": "s1", "status": "rejected"}, {"id": "s2", "status": "rejected"}]}
    )
    assert apply_edit(edit, body, _fields())["rejected"] == 2


def test_a_save_changes_only_its_own_copy_and_dates_it(quick: Quick, monkeypatch: pytest.MonkeyPatch) -> None:
    recording, other = _recording(quick), _recording(quick, ["田中さん 090-1234-5678"])
    copy, _ = _create(quick, recording)
    untouched, _ = _create(quick, other)
    assert copy.revision == untouched.revision == 1
    monkeypatch.setattr("service.publication.utcnow", lambda: datetime(2030, 1, 2, 3, 4, tzinfo=UTC))
    edit = PublicationEdit.model_validate({"changes": [{"id": copy.body["spans"][0]["id"], "status": "rejected"}]})
    with Session(quick.engine) as db:
        saved = save_edit(db, quick.caller("clerk_kita"), recording, copy, edit, ip="")
        assert saved.updated_at.replace(tzinfo=None) == datetime(2030, 1, 2, 3, 4)  # shown as the last change
        still = copy_of(db, ident(other))
    assert still is not None and (still.revision, still.body) == (1, untouched.body)
    assert [s["text"] for s in still.body["spans"]] == ["090-1234-5678"]


def test_a_word_said_three_times_in_one_utterance_is_masked_three_times() -> None:
    body = _body()
    fields = {**_fields(), "header.title": "佐藤、佐藤、佐藤"}
    assert apply_edit(PublicationEdit.model_validate({"add": [{"text": "佐藤"}]}), body, fields)["added"] == 5
    added = sorted((s["start"], s["end"]) for s in body["spans"] if s["target"] == "header.title")
    assert added == [(0, 2), (3, 5), (6, 8)]


def test_a_partial_range_is_refused_with_what_to_give() -> None:
    partials = ({"end": 2}, {"target": "segment.0", "end": 2}, {"start": 0, "end": 2}, {"target": "segment.0"})
    for partial in (*partials, {"target": "segment.0", "start": 0}):
        with pytest.raises(ServiceError) as refused:
            apply_edit(PublicationEdit.model_validate({"add": [partial]}), _body(), _fields())
        assert (refused.value.code, refused.value.message) == (
            "invalid_span",
            "追加する範囲 (target, start, end) か文字列 (text) を指定してください。",
        ), partial


def test_ranges_added_and_spans_removed_in_one_save_are_all_counted() -> None:
    body = _body()
    body["spans"].append({**body["spans"][2], "id": "s9", "target": "header.title", "end": 1, "text": "佐"})
    ranges = [{"target": "segment.0", "start": 3, "end": 4}, {"target": "header.title", "start": 2, "end": 4}]
    counts = apply_edit(PublicationEdit.model_validate({"add": ranges, "remove": ["s3", "s9"]}), body, _fields())
    assert (counts["added"], counts["removed"]) == (2, 2)
    assert sorted((s["target"], s["text"]) for s in body["spans"] if s["source"] == "manual") == [
        ("header.title", "の会"),
        ("segment.0", "ん"),
    ]


def test_every_person_term_of_the_dictionary_is_proposed_whatever_its_category_is_called(quick: Quick) -> None:
    with Session(quick.engine) as db:
        dictionary = Dictionary(name="関係者", department_id=quick.department("clerk_kita"))
        db.add(dictionary)
        db.flush()
        for surface, category in (("長谷部", "人名"), ("田中", "Person")):
            db.add(DictionaryTerm(dictionary_id=ident(dictionary), surface=surface, category=category))
        db.commit()
    recording = _recording(quick, ["長谷部さんと田中さんの件です。"])
    copy, _ = _create(quick, recording)
    assert _spans(copy) == [("segment.0", "長谷部", "proposed"), ("segment.0", "田中", "proposed")]


def test_a_refresh_by_someone_else_names_and_dates_them_and_leaves_other_copies(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording, other = _recording(quick), _recording(quick, ["田中さん 090-1234-5678"])
    _create(quick, recording)
    untouched, _ = _create(quick, other)  # at revision 1 too
    _save_minutes(quick, recording, 1, ["電話は06-6208-7111です。"])
    monkeypatch.setattr("service.publication.utcnow", lambda: datetime(2030, 1, 2, 3, 4, tzinfo=UTC))
    refreshed, created = _create(quick, recording, "manager_kita")
    assert created is False and refreshed.revision == 2
    assert refreshed.updated_by_id == quick.users["manager_kita"].id
    assert refreshed.updated_at.replace(tzinfo=None) == datetime(2030, 1, 2, 3, 4)
    with Session(quick.engine) as db:
        still = copy_of(db, ident(other))
    assert still is not None and (still.revision, still.minutes_revision, still.body) == (1, 0, untouched.body)


def test_two_first_creations_at_once_refuse_the_second_without_a_trace(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = _recording(quick)
    _create(quick, recording)
    import service.publication as publication

    real, calls = publication.copy_of, []

    def not_there_yet(db: Session, recording_id: int) -> PublicationCopy | None:
        calls.append(recording_id)  # the second creation read before the first one committed
        return None if len(calls) == 1 else real(db, recording_id)

    monkeypatch.setattr(publication, "copy_of", not_there_yet)
    with pytest.raises(ServiceError) as refused:
        _create(quick, recording, "manager_kita")
    error = refused.value
    assert (error.status, error.code) == (409, "conflict")
    assert error.message == "他の人が同時に公開用を作成しました。読み込み直してください。"
    assert [action for action, *_ in _events(quick)] == ["publication.create"]  # the refused one left no event

"""公開用 copies, case by case: the places mutation testing (docs/mutation.md) showed no other test
would notice breaking. Each case is what a clerk or a reader of the published copy sees: which
characters are ■, which candidates are proposed, which decisions survive an edit of the minutes."""

from __future__ import annotations

from typing import Any

import pytest

from service.masking import (
    MASK,
    Candidate,
    add_span,
    all_candidates,
    candidates,
    mask,
    masked_minutes,
    masked_spans,
    minutes_fields,
    name_variants,
    refresh,
    speaker_names,
)

# --- names to look for ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "variants"),
    [
        ("田中課長", ["田中課長", "田中"]),
        ("山田副委員長", ["山田副委員長", "山田"]),  # the longest title, not 委員長 after it (山田副)
        (" 山田 太郎 ", ["山田 太郎", "山田太郎", "山田"]),
        ("田中 課長", ["田中 課長", "田中課長", "田中"]),  # 田中 once
        ("佐藤さん", ["佐藤さん", "佐藤"]),
        ("林さん", ["林さん"]),  # one character is no name to look for
        ("林", []),
    ],
)
def test_a_speakers_name_as_it_may_appear(name: str, variants: list[str]) -> None:
    assert name_variants(name) == variants


def test_speaker_labels_that_are_peoples_names_are_looked_for_and_roles_are_not() -> None:
    speakers = [
        {"id": "S1", "name": "山本花子"},
        {"id": "S2", "name": "財政課長"},
        {"id": "S3", "name": "区民"},
        {"id": "S4", "name": "委員A"},
        {"id": "S5", "name": "田中課長"},  # an official speaking in their role
        {"id": "S6"},
        {"id": "S7", "name": " 山田 太郎 "},
        {"id": "S8", "name": "司会"},
        {"id": "S9", "name": "職員１"},
        {"id": "S10", "name": "山本A"},  # labels numbering people with one name: no names
        {"id": "S11", "name": "田中2"},
        {"id": "S12", "name": "佐藤b"},
        {"id": "S13", "name": "受付窓口"},  # two words, neither a name
        {"id": "S14", "name": "市民の方"},
    ]
    assert speaker_names({"transcript": {"speakers": speakers}}) == ["山本花子", "山田 太郎", "山田太郎", "山田"]
    assert speaker_names({}) == [] and speaker_names({"transcript": None}) == []


# --- masking ----------------------------------------------------------------------------------------


def test_mask_keeps_spaces_and_clips_spans_to_the_text() -> None:
    assert mask("山田 太郎です", [(0, 5)]) == "■■ ■■です"
    assert mask("山田　太郎", [(0, 5)]) == "■■　■■"  # a full-width space too
    assert mask("電話は1234", [(-2, 1), (5, 99)]) == "■話は12■■"
    assert mask("山本です", []) == "山本です"


def test_what_a_copy_may_mask() -> None:
    body: dict[str, Any] = {
        "header": {"title": "相談記録", "held_at": "2026-04-01", "attendees": "", "room": 3, "place": "区役所"},
        "transcript": {
            "speakers": [{"id": "S1", "name": "山本"}, {"id": "S2", "name": ""}, {"id": "S3"}],
            "segments": [{"text": "こんにちは"}, {"text": None}, {}],
        },
    }
    assert minutes_fields(body) == {
        "header.title": "相談記録",
        "header.place": "区役所",
        "speaker.S1": "山本",
        "segment.0": "こんにちは",
        "segment.1": "",
        "segment.2": "",
    }
    assert minutes_fields({}) == {} and minutes_fields({"header": None, "transcript": None}) == {}


def test_kept_spans_are_masked_and_rejected_ones_are_not() -> None:
    body: dict[str, Any] = {
        "header": {"title": "相談記録", "attendees": "山本花子", "room": 3},
        "transcript": {
            "speakers": [{"id": "S1", "name": "山本花子"}, {"id": "S2"}],
            "segments": [
                {"speaker": "S1", "text": "山本です。", "words": [{"text": "山本"}]},
                {"speaker": "S2", "text": "花子さん", "words": []},
                {"speaker": "S2"},
            ],
            "flags": [{"text": "山本です。"}],
            "corrections": [{"before": "山元", "after": "山本"}],
        },
    }
    copy = {
        "spans": [
            {"target": "header.attendees", "start": 0, "end": 4, "status": "proposed"},
            {"target": "speaker.S1", "start": 0, "end": 2, "status": "confirmed"},
            {"target": "segment.0", "start": 0, "end": 2, "status": "rejected"},
            {"target": "segment.1", "start": 0, "end": 2, "status": "confirmed"},
        ]
    }
    out = masked_minutes(body, copy)
    assert out["header"] == {"title": "相談記録", "attendees": MASK * 4, "room": 3}
    assert out["transcript"]["speakers"] == [{"id": "S1", "name": MASK * 2 + "花子"}, {"id": "S2"}]
    assert out["transcript"]["segments"] == [
        {"speaker": "S1", "text": "山本です。", "words": []},
        {"speaker": "S2", "text": MASK * 2 + "さん", "words": []},
        {"speaker": "S2", "text": "", "words": []},
    ]
    assert "flags" not in out["transcript"] and "corrections" not in out["transcript"]
    assert body["transcript"]["segments"][0]["words"] == [{"text": "山本"}]  # the minutes are untouched
    assert "flags" in body["transcript"]
    assert masked_spans(copy) == {"header.attendees": [(0, 4)], "speaker.S1": [(0, 2)], "segment.1": [(0, 2)]}
    assert masked_minutes({}, {}) == {"header": {}, "transcript": {"speakers": [], "segments": []}}


# --- candidates --------------------------------------------------------------------------------------


def _found(target: str, text: str, names: list[str] | None = None) -> list[tuple[str, str]]:
    return [(c.text, c.kind) for c in candidates(target, text, names or [])]


def test_speaker_labels_have_no_candidates() -> None:
    assert _found("speaker.S1", "山本花子") == []
    assert _found("segment.0", "山本花子さんの相談") == [("山本花子", "name")]


def test_list_fields_propose_every_person_but_labels_titles_and_roles() -> None:
    attendees = "出席者: 山本花子、田中課長、区民、委員A、鈴木、私、Ｂ"
    assert _found("header.attendees", attendees) == [("山本花子", "name"), ("鈴木", "name")]
    # the same text in another header field: only what the detector finds on its own
    assert _found("header.note", "区民、委員A、田中課長、司会") == []
    found = candidates("header.attendees", "鈴木様、佐藤様", [])
    assert [(c.start, c.end, c.text, c.kind) for c in found] == [(0, 3, "鈴木様", "name"), (4, 7, "佐藤様", "name")]
    assert {c.reason for c in found} == {"氏名らしい: 出席者・相手の欄"}


def test_known_names_are_found_wherever_they_occur() -> None:
    # 小鳥遊 (a 人名 dictionary term): no cue around it, found because the dictionary names it.
    assert _found("segment.0", "次は小鳥遊の番です") == []
    assert _found("segment.0", "次は小鳥遊の番です", ["小鳥遊"]) == [("小鳥遊", "name")]
    assert _found("header.title", "小鳥遊の件", ["小鳥遊"]) == [("小鳥遊", "name")]
    fields = {"segment.0": "次は小鳥遊の番です"}
    assert [(c.text, c.kind) for c in all_candidates(fields, ["小鳥遊"])["segment.0"]] == [("小鳥遊", "name")]
    assert [s["text"] for s in refresh(None, None, fields, ["小鳥遊"])["spans"]] == ["小鳥遊"]


def test_list_items_after_a_role_and_labels_in_lower_case() -> None:
    assert _found("header.attendees", "区民、あおい") == [("あおい", "name")]  # only the list rule finds あおい
    assert _found("header.attendees", "委員a、議員b") == []
    # Two people side by side are two candidates, each for its own decision.
    found = candidates("header.attendees", "田中・佐藤", [])
    assert [c.text.strip("・") for c in found] == ["田中", "佐藤"]


def test_a_list_item_and_a_name_found_in_it_are_one_candidate() -> None:
    found = candidates("header.counterpart", "山本花子様", ["山本"])
    assert [(c.start, c.end, c.text) for c in found] == [(0, 5, "山本花子様")]
    # The detector's 山本、花子、佐藤 (before さん) and the item 佐藤さん reaching past it: one span.
    found = candidates("header.attendees", "山本、花子、佐藤さん", [])
    assert [(c.start, c.end, c.text, c.kind) for c in found] == [(0, 10, "山本、花子、佐藤さん", "name")]
    assert "さん" in found[0].reason  # the first candidate's reason


def test_labels_and_the_staff_after_a_staff_label_are_never_candidates() -> None:
    text = "相手: 鈴木一郎 対応: 日下 担当者：佐藤 備考: なし"
    assert _found("header.counterpart", text) == [("鈴木一郎", "name")]
    assert _found("header.note", "相手: 鈴木一郎さん 対応: 日下さん") == [("鈴木一郎", "name")]
    assert _found("header.counterpart", "対応: 日下 相手: 鈴木一郎") == [("鈴木一郎", "name")]  # staff first
    # In an utterance such words are speech, not labels.
    assert _found("segment.0", "対応: 日下さん") == [("日下", "name")]


def test_candidates_of_a_whole_minutes() -> None:
    fields = {
        "header.title": "山本花子さんの相談",
        "speaker.S1": "山本花子",
        "segment.0": "佐藤さんから電話",
        "segment.1": "電話は06-6208-7111です",
    }
    found = all_candidates(fields, [])
    assert {t: [(c.text, c.kind) for c in v] for t, v in found.items()} == {
        "header.title": [("山本花子", "name")],
        "speaker.S1": [],
        "segment.0": [("佐藤", "name")],
        "segment.1": [("06-6208-7111", "phone")],
    }
    assert all(isinstance(c, Candidate) for spans in found.values() for c in spans)


# --- the copy and its decisions ------------------------------------------------------------------


def _fields(*segments: str, title: str = "相談記録") -> dict[str, str]:
    return {"header.title": title, **{f"segment.{i}": text for i, text in enumerate(segments)}}


def _view(copy: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [(s["id"], s["target"], s["text"], s["status"], s["source"]) for s in copy["spans"]]


def test_a_new_copy_proposes_every_candidate_in_order() -> None:
    fields = {**_fields(*(["はい"] * 10), "佐藤さんです", title="山本花子さんの件"), "speaker.S1": "司会"}
    fields["segment.2"] = "田中さんから"
    copy = refresh(None, None, fields, [])
    assert _view(copy) == [
        ("s1", "header.title", "山本花子", "proposed", "auto"),
        ("s2", "segment.2", "田中", "proposed", "auto"),
        ("s3", "segment.10", "佐藤", "proposed", "auto"),  # after segment.2, not after segment.1
    ]
    assert copy["next_id"] == 4 and copy["lost"] == 0
    span = copy["spans"][1]
    assert (span["start"], span["end"], span["kind"]) == (0, 2, "name") and span["reason"]
    assert set(span) == {"id", "target", "start", "end", "text", "kind", "reason", "source", "status"}


def test_a_header_field_whose_key_has_a_dot_stays_with_the_header() -> None:
    # Upload fields are any JSON keys: "memo.1" is a header field like any other.
    copy = refresh(None, None, {"segment.0": "田中さんです", "header.memo.1": "佐藤さんの件"}, [])
    assert [(s["target"], s["text"]) for s in copy["spans"]] == [("header.memo.1", "佐藤"), ("segment.0", "田中")]


def test_decisions_stay_with_their_text_when_utterances_are_inserted_before_it() -> None:
    copy = refresh(None, None, _fields("佐藤さんです", "田中さんです"), [])
    copy["spans"][0]["status"] = "rejected"  # 佐藤: the clerk says keep it
    copy["spans"][1]["status"] = "confirmed"
    edited = _fields("開会します", "佐藤さんです", "田中さんです")
    again = refresh(copy, _fields("佐藤さんです", "田中さんです"), edited, [])
    assert _view(again) == [
        ("s1", "segment.1", "佐藤", "rejected", "auto"),
        ("s2", "segment.2", "田中", "confirmed", "auto"),
    ]
    assert again["next_id"] == 3
    # Without the old text the copy was made on, the fields are taken as unchanged.
    assert _view(refresh(copy, None, _fields("佐藤さんです", "田中さんです"), [])) == _view(copy)


def test_decisions_on_one_name_in_several_utterances_stay_with_their_utterance() -> None:
    old = _fields("佐藤さんが来た", "佐藤さんに電話")
    copy = refresh(None, None, old, [])
    copy["spans"][0]["status"], copy["spans"][1]["status"] = "rejected", "confirmed"
    again = refresh(copy, old, _fields("佐藤さんは休み", "佐藤さんが来た", "佐藤さんに電話"), [])
    assert [(s["id"], s["target"], s["status"]) for s in again["spans"]] == [
        ("s3", "segment.0", "proposed"),
        ("s1", "segment.1", "rejected"),
        ("s2", "segment.2", "confirmed"),
    ]


def test_a_clerks_span_on_a_reworded_title_is_lost_even_if_an_utterance_reads_the_old_title() -> None:
    old = _fields("相談記録", title="相談記録")
    copy = refresh(None, None, old, [])
    add_span(copy, old, "header.title", 0, 2)
    again = refresh(copy, old, {"header.title": "面談記録", "segment.0": "相談記録"}, [])
    assert again["spans"] == [] and again["lost"] == 1


def test_header_fields_in_order_also_a_field_named_by_a_number() -> None:
    copy = refresh(None, None, {"header.1": "田中さんの件", "header.title": "佐藤さんの件"}, [])
    assert [s["target"] for s in copy["spans"]] == ["header.title", "header.1"]


def test_each_occurrence_of_a_name_keeps_its_own_decision() -> None:
    three = _fields("佐藤さんと佐藤さんと佐藤さん")
    copy = refresh(None, None, three, [])
    assert [(s["id"], s["start"]) for s in copy["spans"]] == [("s1", 0), ("s2", 5), ("s3", 10)]
    copy["spans"][2]["status"] = "rejected"
    again = refresh(copy, three, three, [])
    assert [(s["id"], s["status"]) for s in again["spans"]] == [
        ("s1", "proposed"),
        ("s2", "proposed"),
        ("s3", "rejected"),
    ]


def test_an_edit_drops_a_vanished_candidate_and_moves_the_clerks_spans_after_it() -> None:
    old = _fields("佐藤さんが来ました", "議題は予算です")
    copy = refresh(None, None, old, [])
    add_span(copy, old, "segment.1", 3, 5)  # 予算, after the automatic 佐藤 in the copy's order
    again = refresh(copy, old, _fields("お客様が来ました", "議題は予算です"), [])
    assert _view(again) == [("s2", "segment.1", "予算", "confirmed", "manual")]
    assert again["lost"] == 0


def test_ids_continue_from_the_copys_counter() -> None:
    copy = refresh({"spans": None, "next_id": 7}, None, _fields("佐藤さんです"), [])
    assert [s["id"] for s in copy["spans"]] == ["s7"] and copy["next_id"] == 8


def test_new_candidates_get_new_ids_and_vanished_ones_are_dropped_quietly() -> None:
    copy = refresh(None, None, _fields("佐藤さんです"), [])
    again = refresh(copy, _fields("佐藤さんです"), _fields("田中さんです"), [])
    assert _view(again) == [("s2", "segment.0", "田中", "proposed", "auto")]
    assert again["lost"] == 0 and again["next_id"] == 3


def test_a_clerks_own_span_follows_its_text_or_is_counted_lost() -> None:
    old = _fields("開会します", "議題は予算です", "閉会します")
    copy = refresh(None, None, old, [])
    add_span(copy, old, "segment.1", 3, 5)  # 予算
    add_span(copy, old, "segment.2", 0, 2)  # 閉会
    add_span(copy, old, "header.title", 0, 2)  # 相談
    # An utterance inserted before: the span moves with its utterance.
    moved = refresh(copy, old, _fields("はい", "開会します", "議題は予算です", "閉会します"), [])
    assert [(s["target"], s["text"], s["start"]) for s in moved["spans"]] == [
        ("header.title", "相談", 0),
        ("segment.2", "予算", 3),
        ("segment.3", "閉会", 0),
    ]
    assert moved["lost"] == 0 and all(s["status"] == "confirmed" for s in moved["spans"])
    # The utterance edited: the span stays on its text (the first time it is there), else it is lost.
    edited = refresh(copy, old, _fields("開会します", "本日の議題は予算と予算案です", "これで終わります"), [])
    assert [(s["target"], s["text"], s["start"], s["end"]) for s in edited["spans"]] == [
        ("header.title", "相談", 0, 2),
        ("segment.1", "予算", 6, 8),
    ]
    assert edited["lost"] == 1
    at_start = refresh(copy, old, _fields("開会します", "予算の議題です", "閉会します"), [])
    assert [(s["target"], s["start"]) for s in at_start["spans"]] == [
        ("header.title", 0),
        ("segment.1", 0),
        ("segment.2", 0),
    ]
    gone = refresh(copy, old, _fields("開会します"), [])  # two utterances with spans deleted
    assert [s["target"] for s in gone["spans"]] == ["header.title"] and gone["lost"] == 2
    # The last utterance deleted (its span is lost), also when the old text is not known.
    for old_fields in (old, None):
        shorter = refresh(copy, old_fields, _fields("開会します", "議題は予算です"), [])
        assert [s["target"] for s in shorter["spans"]] == ["header.title", "segment.1"] and shorter["lost"] == 1


def test_the_same_utterance_twice_keeps_a_span_on_the_nearest_one() -> None:
    old = _fields("はい", "異議なし", "はい")
    copy = refresh(None, None, old, [])
    add_span(copy, old, "segment.2", 0, 2)
    moved = refresh(copy, old, _fields("はい", "開会", "異議なし", "はい"), [])
    assert [s["target"] for s in moved["spans"]] == ["segment.3"]


def test_adding_a_span_by_hand() -> None:
    fields = _fields("佐藤さんです", title="相談")
    copy: dict[str, Any] = {}
    span = add_span(copy, fields, "segment.0", 0, 2)
    assert span == {
        "id": "s1",
        "target": "segment.0",
        "start": 0,
        "end": 2,
        "text": "佐藤",
        "kind": "manual",
        "source": "manual",
        "status": "confirmed",
    }
    assert copy["next_id"] == 2
    add_span(copy, fields, "header.title", 0, 2)  # whole field: start 0, end at its length
    assert [s["target"] for s in copy["spans"]] == ["header.title", "segment.0"]
    assert copy["next_id"] == 3
    fields = {**fields, "speaker.S1": "山本花子", "segment.10": "鈴木です", "segment.2": "田中です"}
    add_span(copy, fields, "segment.10", 0, 2)
    add_span(copy, fields, "segment.2", 0, 2)
    add_span(copy, fields, "speaker.S1", 2, 4)
    add_span(copy, fields, "speaker.S1", 0, 2)
    assert [(s["target"], s["start"]) for s in copy["spans"]] == [
        ("header.title", 0),
        ("speaker.S1", 0),
        ("speaker.S1", 2),
        ("segment.0", 0),
        ("segment.2", 0),
        ("segment.10", 0),
    ]
    copy["spans"] = [s for s in copy["spans"] if s["target"] in ("header.title", "segment.0")]
    copy["next_id"] = 3
    for target, start, end in (("segment.0", 2, 2), ("segment.0", -1, 2), ("segment.0", 3, 7), ("segment.9", 0, 1)):
        with pytest.raises(ValueError, match=target):
            add_span(copy, fields, target, start, end)
    assert copy["next_id"] == 3 and len(copy["spans"]) == 2

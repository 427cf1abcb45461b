"""Personal data as citizens say it (issue 24): each cue and kind on ASR-style text, a name cut by a
backchannel, what must stay unmasked, header labels and speaker labels, GiNZA's loading, the linear
addition of spans, and `kiroku mask`."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from typer.testing import CliRunner

from kiroku.cli import app
from service import masking
from service.personal_data import KINDS, detect, detect_texts, nlp


def found(text: str) -> dict[str, str]:
    """The candidates of ``text`` as {text: kind}, each with a reason for the clerk."""
    candidates = detect(text)
    assert all(c.reason and c.kind in KINDS for c in candidates), candidates
    return {c.text: c.kind for c in candidates}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # names after and before the cues, in kanji, hiragana and katakana, rare ones too
        ("えー名前は東海林です。", {"東海林": "name"}),
        ("もしもし、やまもとはなこと申しますけれども。", {"やまもとはなこ": "name"}),
        ("わたくし百目鬼の母ですが息子のことで。", {"百目鬼": "name"}),
        ("息子のたろうが先月から学校に行ってなくて。", {"たろう": "name"}),
        ("民生委員の蔀さんから聞いて電話しました。", {"蔀": "name"}),
        ("お名前をお願いします。グエン・ヴァン・ナムです。", {"グエン・ヴァン・ナム": "name"}),
        ("委員の東海林でございます。", {"東海林": "name"}),
        ("昨日ですね 岡田っていう人が窓口に来まして。", {"岡田": "name"}),
        # addresses: ward + town + 丁目/番/号 in digits, kanji and speech; a town where someone lives
        ("住所は此花区四貫島二丁目三番十二号です。", {"此花区四貫島二丁目三番十二号": "address"}),
        ("住所は大正区泉尾 にちょうめ さんばん ごごうです。", {"大正区泉尾 にちょうめ さんばん ごごう": "address"}),
        ("あの四貫島に住んでます。", {"四貫島": "address"}),
        # birth dates near 生まれ / 生年月日, and a full 昭和 date
        ("生年月日は平成2年11月3日です。", {"平成2年11月3日": "birthdate"}),
        ("昭和五十年三月二日生まれです。", {"昭和五十年三月二日": "birthdate"}),
        # phone numbers in digits, full width, kanji and kana
        ("携帯は090-1234-5678です。", {"090-1234-5678": "phone"}),
        ("電話は０６ー６６３１ー２２４５です。", {"０６ー６６３１ー２２４５": "phone"}),
        ("連絡先は〇九〇の一二三四の五六七八です。", {"〇九〇の一二三四の五六七八": "phone"}),
        (
            "連絡先はゼロロクのロクニーゼロハチのナナイチイチイチでお願いします。",
            {"ゼロロクのロクニーゼロハチのナナイチイチイチ": "phone"},
        ),
        ("ぜろろく ななきゅうよんなな ごいちごにです。", {"ぜろろく ななきゅうよんなな ごいちごに": "phone"}),
        # individual, account, card and id numbers, e-mail, car plates
        ("マイナンバーは1234 5678 9012です。", {"1234 5678 9012": "mynumber"}),
        ("口座番号は1234567です。", {"1234567": "account"}),
        ("被保険者番号は一二三四五六七八です。", {"一二三四五六七八": "id"}),
        ("ケース番号はA123456になります。", {"A123456": "id"}),
        (
            "メールアドレスは yamada アットマーク example ドット co ドット jp です。",
            {"yamada アットマーク example ドット co ドット jp": "email"},
        ),
        ("車のナンバーはなにわ 500 さ 12-34です。", {"なにわ 500 さ 12-34": "plate"}),
        ("ご自宅の電話番号は、えー6208の7111です。", {"6208の7111": "phone"}),
        ("住所は平野区喜連西3の4の5です。", {"平野区喜連西3の4の5": "address"}),
        ("38年5月12日生まれです。", {"38年5月12日": "birthdate"}),
    ],
)
def test_cues_and_kinds(text: str, expected: dict[str, str]) -> None:
    assert found(text) == expected


def test_the_reason_says_which_cue() -> None:
    [candidate] = detect("えー名前は東海林です。")
    assert candidate.reason == "氏名らしい: 『名前は』の後"


@pytest.mark.parametrize(
    "text",
    [
        "はい、保護課の日下です。",  # staff introducing themselves in their role
        "財政局財政課長の田中でございます。",
        "財政課長から説明します。予算は3億4,500万円です。",  # titles and amounts
        "委員A、北区の事業についてお伺いします。委員B。委員C。",  # roles and wards
        "令和7年4月1日から受け付けます。次回は3月5日に開催します。",  # dates of meetings and deadlines
        "本件は株式会社大阪建設と協議中で、令和6年4月23日までに回答します。",  # a company in negotiations
        "此花区四貫島地域の中央図書館の改修工事について報告します。",  # places of administration, facilities
        "何かあれば保護課の電話番号06-6208-7111までどうぞ。",  # the office's own public number
        "お問い合わせは区民課、電話0120-123-456までお願いします。",
        "第12号議案、1,870時間、2,716件の申請がありました。",
        "山本建設株式会社と協議しました。田中工務店さんから回答がありました。",  # companies named after people
        "中之島2丁目の再開発と阿倍野区旭町1丁目の区画整理事業について",  # districts, not homes
        "大阪市役所は北区中之島1丁目3番20号にあります。",  # a public building's address
        "なにわコール 06-4301-7285 までお問い合わせください。",
        "ボランティアという方が来られました。お客さんと業者さんと皆さん。",  # people, not names
    ],
)
def test_what_must_stay(text: str) -> None:
    assert found(text) == {}


def test_a_name_cut_by_a_backchannel_is_still_a_name() -> None:
    utterances = ["…四貫島に住んで…", "名前は山本", "な", "子です昭和38年5月12日…"]
    per_utterance = detect_texts(utterances)
    assert [(c.text, c.kind) for c in per_utterance[0]] == [("四貫島", "address")]
    assert [(c.text, c.kind) for c in per_utterance[1]] == [("山本", "name")]
    assert [(c.text, c.kind) for c in per_utterance[2]] == [("な", "name")]
    assert [(c.text, c.kind) for c in per_utterance[3]] == [("子", "name"), ("昭和38年5月12日", "birthdate")]
    assert all(u[c.start : c.end] == c.text for u, cs in zip(utterances, per_utterance, strict=True) for c in cs)


def test_speaker_labels_and_header_labels_are_never_candidates() -> None:
    body: dict[str, Any] = {
        "header": {"title": "生活保護の相談", "attendees": "対応: 日下 相手: 山本花子"},
        "transcript": {
            "speakers": [
                {"id": "S1", "name": "財政課長"},
                {"id": "S2", "name": "委員A"},
                {"id": "S3", "name": "山本花子"},
            ],
            "segments": [{"text": "財政課長の日下です。"}, {"text": "山本花子さんの件です。"}],
        },
    }
    names = masking.speaker_names(body)
    assert "財政" not in names and "山本花子" in names
    copy = masking.refresh(None, None, masking.minutes_fields(body), names)
    proposed = {(s["target"], s["text"]) for s in copy["spans"]}
    assert proposed == {("header.attendees", "山本花子"), ("segment.1", "山本花子")}
    assert all(s["reason"] for s in copy["spans"])


def test_adding_thousands_of_spans_does_not_sort_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """8,000 spans added one by one in random order end up in order, each once; the work is n log n
    comparisons, not a sort of the whole list per addition (issue 23: 21.9 s for 8k spans)."""
    n = 8000
    fields = {f"segment.{k}": "電話は06-6208-7111です" for k in range(n)}
    copy: dict[str, Any] = {"spans": [], "next_id": 1}
    calls = 0
    order_of = masking._target_order

    def counted(target: str) -> tuple[int, int, str]:
        nonlocal calls
        calls += 1
        return order_of(target)

    monkeypatch.setattr(masking, "_target_order", counted)
    targets = list(range(n))
    random.Random(23).shuffle(targets)
    for k in targets:
        masking.add_span(copy, fields, f"segment.{k}", 3, 15)
    spans = copy["spans"]
    assert [s["target"] for s in spans] == [f"segment.{k}" for k in range(n)]
    assert len({s["id"] for s in spans}) == n and copy["next_id"] == n + 1
    assert calls <= 2 * n * math.log2(n)


def test_ginza_is_loaded_once_and_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    first = nlp.pipeline()
    assert nlp.pipeline() is first
    assert any(e.label == "Person" for e in nlp.entities(["昨日、山本太郎が窓口に来ました。"])[0])
    monkeypatch.setattr(nlp, "_loaded", [])
    monkeypatch.setattr(nlp, "MODEL", "ja_ginza_not_installed")
    with pytest.raises(nlp.NlpUnavailable, match=r"ja_ginza_not_installed.*pip install --no-deps ginza"):
        nlp.pipeline()


def test_kiroku_mask_reads_lines_and_writes_spans() -> None:
    lines = ["名前は山本花子です。携帯は090-1234-5678です。", "", "予算は3億4,500万円です。"]
    result = CliRunner().invoke(app, ["mask"], input=("\n".join(lines) + "\n").encode("utf-8"))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    spans = out[0]["spans"]
    assert [(lines[0][s["start"] : s["end"]], s["kind"]) for s in spans] == [
        ("山本花子", "name"),
        ("090-1234-5678", "phone"),
    ]
    assert out[1] == {"spans": []} and out[2] == {"spans": []}
    bad = CliRunner().invoke(app, ["mask"], input=b"\xff\xfe\n")
    assert bad.exit_code == 2


def test_long_unusual_text_is_read_whole() -> None:
    """20,000 characters of one unknown katakana word or of honorifics: analysed in pieces (SudachiPy
    refuses over 49,149 bytes at once) and every name found."""
    assert detect_texts(["アイウエオカキクケコ" * 2000]) == [[]]
    [names] = detect_texts(["山本さん" * 5000])
    assert len(names) == 5000 and {c.text for c in names} == {"山本"}

"""Where a term was probably said but not written: the places worth a second opinion."""

from __future__ import annotations

import pytest

from dictionaries.suspects import SuspectFinder, sounded_at_start
from dictionaries.terms import Term
from dictionaries.text import fold_long_vowels

TERMS = [
    Term("旭区", "あさひく"),
    Term("粗大ごみ", "そだいごみ"),
    Term("随意契約", "ずいいけいやく"),
    Term("東海林", "しょうじ"),
    Term("梅香", "ばいか"),
    Term("酉島", "とりしま"),
    Term("淀川区", "よどがわく"),
    Term("淀川左岸線", "よどがわさがんせん"),
    Term("なにわ筋線", "なにわすじせん"),
    Term("十三", "じゅうそう"),
    Term("井高野", "いたかの"),
    Term("要介護認定", "ようかいごにんてい"),
]


@pytest.fixture(scope="module")
def finder() -> SuspectFinder:
    return SuspectFinder(TERMS)


@pytest.mark.parametrize(
    "text,term,stretch",
    [
        ("朝引くの地域包括支援センターです。", "旭区", "朝引く"),  # same sound, but a verb: correction may not touch it
        ("もしもし古代ゴミを出したいんですけど", "粗大ごみ", "古代ゴミ"),  # five kana, one sound off
        ("つい契約で進める以上、", "随意契約", "つい契約"),
        ("はい取り島の実家から", "酉島", "取り島"),
        ("状況を報告しますつい契約の件数は", "随意契約", "つい契約"),  # the す of ます is not taken in
        ("次に、つい契約で進める案件", "随意契約", "つい契約"),
        ("何は数字1000の整備費補助が", "なにわ筋線", "何は数字1000"),  # digits read as said: せん
        ("けまやいたかのの辺りでは", "井高野", "いたかの"),  # sounds spelled out, cut as interjections
        ("何はすじ先の整備費補助が", "なにわ筋線", "何はすじ先"),  # は as わ; a lone kanji by its on-reading
        ("まずはよを介護認定の申請", "要介護認定", "よを介護認定"),  # a long vowel written as を
        ("予讼側下岩先のエンシンブが", "淀川左岸線", "予讼側下岩先"),  # 讼 has no reading; 側 as がわ
    ],
)
def test_term_like_stretches_are_found(finder: SuspectFinder, text: str, term: str, stretch: str) -> None:
    found = finder.find(text)
    assert [(s.term.term, text[s.start : s.end]) for s in found] == [(term, stretch)]


@pytest.mark.parametrize(
    "text",
    [
        "課税証明書も必要ですか。",  # 証明 しょうめい ~ 東海林 しょうじ: short terms need the exact sound
        "はい、ガバメントクラウドへの移行で",  # ばいか inside ガバメント: short terms need whole words
        "粗大ごみを出したいんですけど",  # already written
        "淀川左岸線の延伸部が143億円です。",  # 淀川区 sounds like the start of a term already written
        "それでは会議を始めます。",
        "今年度中に12期を設置する予定です。",  # a number said (じゅうに) is no 十三
        "次回は2月18日に開催いたします。",
        "はい、ええ、そうですね。",
    ],
)
def test_ordinary_text_and_written_terms_are_no_suspects(finder: SuspectFinder, text: str) -> None:
    assert finder.find(text) == []


def test_a_place_like_two_terms_is_suspected_of_both() -> None:
    finder = SuspectFinder([Term("住之江区", "すみのえく"), Term("住吉区", "すみよしく")])
    text = "墨の市区役所の窓口で"
    found = finder.find(text)
    assert sorted(s.term.term for s in found) == ["住之江区", "住吉区"]
    assert all(text[s.start : s.end] == "墨の市区" for s in found)


def test_overlapping_suspects_keep_the_closest(finder: SuspectFinder) -> None:
    found = finder.find("予渡川左岸線の整備")
    assert [s.term.term for s in found] == ["淀川左岸線"]


@pytest.mark.parametrize(
    "reading,folded",
    [
        ("ようかいごにんてい", "よおかいごにんてえ"),  # おう and えい are long vowels
        ("よおかいご", "よおかいご"),
        ("せんたー", "せんたあ"),  # ー repeats the vowel before it
        ("とうきょう", "とおきょお"),  # small ょ ends on o
        ("ゆうびん", "ゆうびん"),  # うう is already one way
        ("いう", "いう"),  # う after i is a sound of its own
    ],
)
def test_long_vowels_are_written_one_way(reading: str, folded: str) -> None:
    assert fold_long_vowels(reading) == folded


@pytest.mark.parametrize(
    "answer,stretch",
    [
        ("はよを介護認定の申請", "よを介護認定"),  # after a particle Whisper went on with
        ("要介護認定の", "要介護認定"),  # written as the term: it sounds like itself
        ("、4回後人手の親", None),
        ("まずはよを介護認定", None),  # too far in: not where the suspect was
    ],
)
def test_a_term_spelled_by_its_sound_at_the_start_is_found(answer: str, stretch: str | None) -> None:
    found = sounded_at_start(answer, Term("要介護認定", "ようかいごにんてい"), max_lead=1)
    assert (answer[found[0] : found[1]] if found else None) == stretch


def test_a_short_term_is_never_found_by_its_sound_alone() -> None:
    assert sounded_at_start("取り島の", Term("酉島", "とりしま"), max_lead=1) is None


def test_a_short_name_is_suspected_only_where_its_sounds_were_spelled_out() -> None:
    finder = SuspectFinder([*TERMS, Term("毛馬", "けま"), Term("野田", "のだ"), Term("江間", "えま")])
    found = finder.find("けまやいたかのの辺りでは")  # 毛馬や井高野, spelled by sound
    assert sorted(("けまやいたかのの辺りでは"[s.start : s.end], s.term.term) for s in found) == [
        ("いたかの", "井高野"),
        ("けま", "毛馬"),
    ]
    # Two kana are too easily met elsewhere: in words (そうなのだ), or across a pause (ええ、まあ).
    assert finder.find("ええ、まあ、そうなのだと思います") == []
    assert finder.find("毛馬や井高野の辺りでは") == []  # already written

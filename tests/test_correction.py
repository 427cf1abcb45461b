"""Reading-based correction: fixes misheard terms, and leaves ordinary words and numbers alone."""

from __future__ import annotations

import pytest

from dictionaries.correction import Corrector
from dictionaries.terms import Term
from transcriber.terminology import apply_terms
from transcriber.transcript import Segment, Word

TERMS = [
    Term("放出", "はなてん", ("花天",), "地名"),
    Term("十三", "じゅうそう", ("13", "じゅうさん"), "地名"),
    Term("杭全", "くまた", (), "地名"),
    Term("平野区", "ひらのく", (), "区"),
    Term("天下茶屋", "てんがちゃや", (), "地名"),
    Term("大正区", "たいしょうく", (), "区"),
    Term("蒲生四丁目", "がもうよんちょうめ", (), "地名"),
    Term("巽", "たつみ", ("辰巳",), "地名"),
    Term("地域包括支援センター", "ちいきほうかつしえんせんたー", (), "施設"),
    Term("北区", "きたく", (), "区"),
    Term("保健福祉課", "ほけんふくしか", (), "部署"),
]


@pytest.fixture(scope="module")
def corrector() -> Corrector:
    return Corrector(TERMS)


@pytest.mark.parametrize(
    "heard,expected",
    [
        ("花天の駅前です。", "放出の駅前です。"),  # a known wrong form
        ("クマタにお住まいの方", "杭全にお住まいの方"),  # spelled out in katakana
        ("ひらのくの駅前に", "平野区の駅前に"),  # in hiragana, cut oddly by the analyser
        ("デンガチャやの近くで", "天下茶屋の近くで"),  # one sound misheard (デ for テ)
        ("がもう4丁目の交差点", "蒲生四丁目の交差点"),  # a number inside a place name
        ("地域法活支援センターです。", "地域包括支援センターです。"),  # wrong kanji, same sound
        ("じゅうそうの駅", "十三の駅"),
    ],
)
def test_misheard_terms_are_fixed(corrector: Corrector, heard: str, expected: str) -> None:
    assert corrector.correct(heard)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "13件の申請がありました。",  # "13" is an alias of 十三, but here it is a number
        "対象になる方は、来年度の予算で",  # たいしょうに is close to たいしょうく, but swallows a particle
        "北側の来た道を戻ります。",  # きた is shorter than any sound match
        "保健福祉の窓口",  # ほけんふくし is not ほけんふくしか: no sound added
        "それでは会議を始めます。",
        "放出駅と杭全の交差点",  # already right: unchanged
    ],
)
def test_ordinary_text_is_left_alone(corrector: Corrector, text: str) -> None:
    assert corrector.correct(text) == (text, [])


def test_two_terms_with_one_reading_are_not_guessed() -> None:
    corrector = Corrector([Term("橋本", "はしもと"), Term("端本", "はしもと")])
    assert corrector.correct("ハシモトさん")[0] == "ハシモトさん"


def test_a_term_in_two_dictionaries_is_still_one_term() -> None:
    """A department's list and the city's both hold 此花区, with other categories and aliases."""
    corrector = Corrector(
        [Term("此花区", "このはなく", ("この花区",), "区名"), Term("此花区", "このはなく", (), "行政区"), *TERMS]
    )
    assert corrector.correct("このはなくの窓口")[0] == "此花区の窓口"
    assert corrector.correct("この花区の窓口")[0] == "此花区の窓口"
    assert [t.term for t in corrector.terms].count("此花区") == 1


def test_a_term_fused_into_the_katakana_before_it_is_found() -> None:
    """Whisper wrote はい、此花区 as ハイコの花区: the unknown katakana word's tail starts the term."""
    corrector = Corrector([Term("此花区", "このはなく"), *TERMS])
    assert corrector.correct("ハイコの花区役所です")[0] == "ハイ此花区役所です"


@pytest.mark.parametrize(
    "text",
    [
        "ミキタクの道です",  # きたく (北区) is too short to be cut out of an unknown word
        "サンタイショウクの",  # a term wholly inside one unknown word is not cut out of it
    ],
)
def test_unknown_katakana_words_are_not_cut_for_short_or_inner_matches(corrector: Corrector, text: str) -> None:
    assert corrector.correct(text) == (text, [])


LONG_AND_SHORT = [
    *TERMS,
    Term("帰宅困難者", "きたくこんなんしゃ"),
    Term("国民健康保険", "こくみんけんこうほけん"),
    Term("国民健康保険料", "こくみんけんこうほけんりょう"),
]


@pytest.mark.parametrize(
    "heard,expected",
    [
        ("きたく混乱者への対応", "帰宅困難者への対応"),  # not 北区混乱者
        ("国民健康保健療の通知", "国民健康保険料の通知"),  # not 国民健康保険療
    ],
)
def test_a_long_term_heard_loosely_wins_over_a_short_one_inside_it(heard: str, expected: str) -> None:
    assert Corrector(LONG_AND_SHORT).correct(heard)[0] == expected


def test_a_term_written_right_is_not_swallowed_by_a_longer_loose_match() -> None:
    assert Corrector(LONG_AND_SHORT).correct("北区混乱者への対応") == ("北区混乱者への対応", [])


def test_terms_without_readings_get_one_from_their_kanji() -> None:
    corrector = Corrector([Term("区政会議")])
    assert corrector.correct("くせい会議を開きます")[0] == "区政会議を開きます"


def test_applied_corrections_keep_word_timings_and_an_undo_record(corrector: Corrector) -> None:
    words = [Word(start=float(i), end=i + 1.0, text=t) for i, t in enumerate(["クマ", "タに", "お住まい", "です。"])]
    segment = Segment(start=0, end=4, text="クマタにお住まいです。", words=words)
    [fixed], [record] = apply_terms([segment], corrector)
    assert fixed.text == "杭全にお住まいです。"
    assert "".join(w.text for w in fixed.words) == fixed.text
    assert (fixed.words[0].text, fixed.words[0].start, fixed.words[0].end) == ("杭全に", 0.0, 2.0)
    assert (record.before, record.after, record.rule) == ("クマタ", "杭全", "reading")
    assert fixed.text[record.start : record.end] == "杭全"


def test_a_term_among_five_thousand_is_still_found() -> None:
    # How fast 5,000 terms load is bench/dictionary_scale.py's business; here, that they all work.
    terms = [
        Term(f"用語{i}", "あいうえおかきくけこ"[i % 10] * 3 + f"{chr(0x3042 + i % 80)}ん", (), "") for i in range(4999)
    ]
    corrector = Corrector([*terms, Term("杭全", "くまた")])
    fixed, edits = corrector.correct("本日の会議では、来年度の予算について議論します。" * 20 + "クマタの交差点")
    assert fixed.endswith("杭全の交差点") and [e.after for e in edits] == ["杭全"]


SOUND_CHOSEN_TERMS = [
    Term("督促状", "とくそくじょう"),
    Term("一般競争入札", "いっぱんきょうそうにゅうさつ"),
    Term("教育委員会事務局", "きょういくいいんかいじむきょく"),
    Term("十三", "じゅうそう"),
    Term("単価契約", "たんかけいやく"),
    Term("淀川区", "よどがわく"),
    Term("区政会議", "くせいかいぎ"),
    Term("城東区", "じょうとうく"),
    Term("西成区", "にしなりく"),
    Term("保健福祉課", "ほけんふくしか"),
]


@pytest.mark.parametrize(
    "heard,expected",
    [
        ("先日、特則上が届きました。", "先日、督促状が届きました。"),  # 上 read じょう, not うえ
        ("一般共想入札で行います。", "一般競争入札で行います。"),  # 共 きょう, 想 そう
        ("教育委員会、事務局の者です。", "教育委員会事務局の者です。"),  # a comma Whisper put inside
        # kanji re-read by their on-readings, and compared without voicing marks
        ("重操駅の周辺では", "十三駅の周辺では"),  # 操 has only みさお in the analyser; its on-reading is そう
        ("避難所の探火契約について", "避難所の単価契約について"),  # 火 read か
        ("それでは、予渡川区地域防災会議を始めます。", "それでは、淀川区地域防災会議を始めます。"),  # と for ど (淀)
        ("会場都区生会議を開会します。", "会場都区政会議を開会します。"),  # starts inside 都区, on its own 区
        ("上等区長の日下部です。", "城東区長の日下部です。"),  # ends inside 区長, on its own 区
        ("にしなりく保健福祉花の窓口", "西成区保健福祉課の窓口"),  # hiragana く is no numeral
    ],
)
def test_kanji_chosen_for_their_sound_are_read_every_way(heard: str, expected: str) -> None:
    assert Corrector(SOUND_CHOSEN_TERMS).correct(heard)[0] == expected


def test_other_readings_do_not_touch_ordinary_words() -> None:
    corrector = Corrector([Term("督促状", "とくそくじょう"), Term("上町", "うえまち")])
    for text in ("特則の上で話します。", "上から順に、説明します。", "会議は、上半期の報告です。"):
        assert corrector.correct(text) == (text, [])


@pytest.mark.parametrize(
    "text",
    [
        "先月まで働いていた工場が閉鎖になりまして、",  # 工場 re-read く+じょう: 4 kana need the analyser reading
        "内訳をもう少し詳しく出していただけますか。",  # 少し: しょう+し (東海林 しょうじ) only by re-reading
        "各所属と連携の上、次の目標を実現する。",  # じょう、じ: 東海林 only without voicing marks
        "事務そのものが停止してしまうような事態",
        "重要な課題です。",  # じゅうよう is not じゅうそう
    ],
)
def test_re_reading_leaves_ordinary_words_alone(text: str) -> None:
    corrector = Corrector([Term("九条", "くじょう"), Term("東海林", "しょうじ"), Term("十三", "じゅうそう")])
    assert corrector.correct(text) == (text, [])


def test_a_term_cut_between_two_utterances_is_corrected_whole() -> None:
    corrector = Corrector([Term("医療扶助", "いりょうふじょ")])
    first = ["医療", "費", "は", "医", "療", "保"]
    second = ["助", "の", "対象", "です。"]
    words_a = [Word(start=i * 0.3, end=i * 0.3 + 0.3, text=t) for i, t in enumerate(first)]
    words_b = [Word(start=2.0 + i * 0.3, end=2.3 + i * 0.3, text=t) for i, t in enumerate(second)]
    a = Segment(start=0, end=1.8, speaker="S1", text="".join(first), words=words_a)
    b = Segment(start=2.0, end=3.2, speaker="S2", text="".join(second), words=words_b)
    fixed, [record] = apply_terms([a, b], corrector)
    assert [s.text for s in fixed] == ["医療費は医療扶助", "の対象です。"]
    assert (fixed[0].speaker, fixed[1].speaker) == ("S1", "S2")
    assert fixed[0].end == 2.3 and fixed[1].start == 2.3
    assert (record.segment, record.before, record.after) == (0, "医療保助", "医療扶助")


def test_utterances_apart_in_time_are_not_joined_for_a_term() -> None:
    corrector = Corrector([Term("医療扶助", "いりょうふじょ")])
    a = Segment(start=0, end=1.0, text="医療保", words=[Word(start=0, end=1.0, text="医療保")])
    b = Segment(start=3.0, end=4.0, text="助の対象", words=[Word(start=3.0, end=4.0, text="助の対象")])
    fixed, records = apply_terms([a, b], corrector)
    assert [s.text for s in fixed] == ["医療保", "助の対象"] and records == []


LONG_TERMS = [
    Term("帰宅困難者", "きたくこんなんしゃ"),
    Term("粗大ごみ処理手数料券", "そだいごみしょりてすうりょうけん"),
    Term("国民健康保険料", "こくみんけんこうほけんりょう"),
    Term("保険年金課", "ほけんねんきんか"),
    Term("窓口サービス課", "まどぐちさーびすか"),
    Term("十三", "じゅうそう"),
    Term("区役所", "くやくしょ"),
    Term("新大阪", "しんおおさか"),
    Term("東海林", "しょうじ"),
    Term("医療扶助", "いりょうふじょ"),
    Term("城東区民センター", "じょうとうくみんせんたー"),
    Term("淀川左岸線", "よどがわさがんせん"),
    Term("舞洲工場", "まいしまこうじょう"),
]


@pytest.mark.parametrize(
    "heard,expected",
    [
        ("最大で1万人の北困難者が出ます。", "最大で1万人の帰宅困難者が出ます。"),  # く dropped
        ("コンビニで育大ゴミ処理手数料件を", "コンビニで粗大ごみ処理手数料券を"),  # そ heard as いく
        ("国民健康保健療の通知が届いて", "国民健康保険料の通知が届いて"),  # 療 has no reading of its own
        ("2つ目は、きたく混乱者への対応です。", "2つ目は、帰宅困難者への対応です。"),  # spelled out: き|たく as verbs
        ("医療費は医療復所の対象に", "医療費は医療扶助の対象に"),  # く added, し for じ
        ("両東クミンセンターの利用件数", "城東区民センターの利用件数"),  # 両東 read りょうとう, not りょうひがし
        ("何はすじ線と予讼側佐岸線を", "何はすじ線と淀川左岸線を"),  # 讼 unreadable, 佐 read さ
    ],
)
def test_long_terms_heard_with_a_sound_dropped_added_or_unreadable(heard: str, expected: str) -> None:
    assert Corrector(LONG_TERMS).correct(heard)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "此花区役所、保険年金の担当です。",  # a word heard whole is not stretched into 保険年金課
        "窓口サービスの見直しを進めます。",
        "重要業績評価指標の略です。",  # 重要 and 十三 are one sound apart, and both are words
        "市役所全体の業務を見直します。",
        "2025年大阪・関西万博の開催を見据えて",  # 年 counts the number before it
        "クラスター防止策を講じるなど、",  # a verb is never the edge of a term
        "会議に来たく思います。",  # a conjugation on a kanji stem is not a spelled-out word
        "その件は、きたくないと言っていました。",
        "公共施設の機能を維持向上していくことが重要です。",  # ordinary words keep their reading (not 舞洲工場)
    ],
)
def test_loose_matching_leaves_ordinary_sentences_alone(text: str) -> None:
    assert Corrector(LONG_TERMS).correct(text) == (text, [])


def test_five_kana_one_sound_off_only_for_an_odd_compound_that_shares_the_term_s_characters() -> None:
    corrector = Corrector([Term("粗大ごみ", "そだいごみ"), Term("区役所", "くやくしょ"), Term("川寺小", "のそく")])
    assert corrector.correct("古代ゴミを出したいんですけど")[0] == "粗大ごみを出したいんですけど"  # 大, ご, み shared
    for text in (
        "市役所全体の業務を見直します。",  # 市役所 is a word of its own, one sound from 区役所
        "古代の遺跡を見学しました。",
        "DXの即戦力となる人材",  # a particle before a kanji word starts no term (の|即 is not のそく)
    ):
        assert corrector.correct(text) == (text, [])

"""Recogniser text cleaned for minutes: no stray spaces, no invented captions, no decoder loops."""

from __future__ import annotations

from transcriber.japanese_text import collapse_repeated_words, is_caption, tidy_spacing, tidy_words, words_to_text
from transcriber.transcript import Word


def _words(*texts: str) -> list[Word]:
    return [Word(start=i * 0.2, end=i * 0.2 + 0.2, text=t) for i, t in enumerate(texts)]


def test_spaces_between_japanese_words_go_latin_spacing_stays() -> None:
    assert tidy_spacing(" 本日は 令和 7年度の 予算について") == "本日は令和7年度の予算について"
    assert tidy_spacing("GIGA スクール構想と Microsoft Teams") == "GIGAスクール構想とMicrosoft Teams"


def test_video_captions_are_recognised_as_hallucinations() -> None:
    assert is_caption("ご視聴ありがとうございました。")
    assert is_caption("ご視聴いただきありがとうございます")
    assert is_caption("チャンネル登録よろしくお願いします！")


def test_real_sentences_are_not_captions() -> None:
    assert not is_caption("本日はご出席いただきありがとうございます。")
    assert not is_caption("ありがとうございました。それでは議題1に移ります。")
    assert not is_caption("字幕放送の予算について説明してください。" * 3)


def test_decoder_loop_collapses_to_one_copy() -> None:
    looped = _words("よろしく", "お願い", "します。") * 5
    assert [w.text for w in collapse_repeated_words(looped)] == ["よろしく", "お願い", "します。"]


def test_natural_short_repetition_is_kept() -> None:
    kept = _words("はい、", "はい。", "ええ、", "ええ。", "そう", "です", "ね。")
    assert collapse_repeated_words(kept) == kept
    twice = _words("お願い", "します。", "お願い", "します。")
    assert collapse_repeated_words(twice) == twice


def test_word_texts_lose_whisper_spaces_but_latin_words_stay_apart() -> None:
    words = tidy_words(_words(" 本日", "は", " Microsoft", " Teams", " で", "開催"))
    assert words_to_text(words) == "本日はMicrosoft Teamsで開催"


def test_kana_folding_is_shared_by_dictionaries_and_search() -> None:
    from dictionaries.text import fold_long_vowels, fold_voicing, is_kana, katakana_to_hiragana, to_hiragana

    assert to_hiragana("ｸﾏﾀ") == "くまた"  # half-width kana: NFKC first
    assert katakana_to_hiragana("ゴミＡ") == "ごみＡ"  # no NFKC: one character for one
    assert is_kana("ひらのク") and not is_kana("平野区") and not is_kana("")
    assert fold_voicing("よどがわ") == "よとかわ"
    assert fold_long_vowels("せんたー") == "せんたあ"


def test_unsafe_characters_are_the_same_for_csv_cells_and_minutes() -> None:
    from dictionaries.csv_io import parse_csv
    from dictionaries.text import UNSAFE_CHARACTERS
    from service.minutes import unsafe_character

    assert UNSAFE_CHARACTERS.search("a\x00b") and not UNSAFE_CHARACTERS.search("改行\nとタブ\t")
    assert unsafe_character({"title": ["x\x07"]}) == "U+0007"
    assert "U+0007" in str(parse_csv("term,reading\n杭全\x07,くまた\n").errors[0])

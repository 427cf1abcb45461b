"""Patterns of personal data that are mostly numbers or forms: phone numbers, individual numbers,
account and id numbers, e-mail addresses (also spoken with アットマーク), postal codes, addresses,
birth dates and car plates. Each finder returns ``Found`` spans over the text as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dictionaries.text import HIRAGANA, KANJI, KATAKANA
from service.personal_data import cues
from service.personal_data.numbers import DigitRun, digit_runs, kanji_number


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    kind: str
    reason: str


# --- a one-for-one view of the text (full width as half width, kanji digits as digits, dashes as -) -----

_DASHES = "‐‑‒–—―−－﹣ｰ"
_KANJI_DIGITS = "〇一二三四五六七八九"


def view(text: str) -> str:
    out = []
    for c in text:
        code = ord(c)
        if 0xFF01 <= code <= 0xFF5E:
            c = chr(code - 0xFEE0)
        elif c == "\u3000":
            c = " "
        elif c in _DASHES:
            c = "-"
        elif c in _KANJI_DIGITS:
            c = str(_KANJI_DIGITS.index(c))
        out.append(c)
    return re.sub(r"(?<=\d)ー(?=\d)", "-", "".join(out))


def _before(text: str, start: int, width: int = 16) -> str:
    """The text before ``start`` in the same sentence, at most ``width`` characters."""
    window = text[max(0, start - width) : start]
    return re.split(r"[。？！?!]", window)[-1]


def _after(text: str, end: int, width: int = 12) -> str:
    return re.split(r"[。？！?!]", text[end : end + width])[0]


# --- numbers: phone, individual number, accounts and ids -------------------------------------------------


def _is_phone(run: DigitRun) -> bool:
    d = run.digits
    if not d.startswith("0"):
        return False
    if len(d) == 11:
        return d.startswith(("020", "050", "060", "070", "080", "090", "0800", "0120"))
    if len(d) == 10:
        return d[1] != "0" or d.startswith("0120")
    return False


# 環境局の電話番号は…, 区役所、代表…: the number of an office, not of a person.
_OFFICE_NUMBER = re.compile(
    r"(?:課|局|係|室|センター|役所|窓口|事務所|担当|事務局|出張所)(?:の|、)?(?:代表|直通)?(?:電話番号|電話|番号|代表|直通|ダイヤル)?"
    r"(?:は|が|、|:|：)?\s*$"
)


def numbers(text: str) -> list[Found]:
    found: list[Found] = []
    for run in digit_runs(text, minimum=2):
        before = _before(text, run.start, 24)
        if len(run) < 4:
            # 記号が12: a short number only right after an id's name.
            if re.search(r"(?:記号|番号|口座)(?:は|が|、)?\s*$", before) and not re.search(r"第\s*$|電話番号", before):
                kind = "account" if "口座" in before else "id"
                found.append(Found(run.start, run.end, kind, "番号らしい: 『記号』『番号』の後"))
            continue
        after = text[run.end : run.end + 6]
        if re.match(r"\s?(?:円|人|件|時間|年|%|％|個|枚|回|万|億|名|歳|才|号室|キロ|メートル|分|秒|日|月)", after):
            continue  # an amount, a count or a date, not a number that identifies
        if re.match(r"\s*まで\s*(?:お|ご)?問い?合わせ", text[run.end : run.end + 12]):
            continue  # …までお問い合わせください: a published number
        digits = run.digits
        id_cue = (
            any(c in before for c in (*cues.ID_CUES, *cues.ACCOUNT_CUES) if c != "番号") and "電話番号" not in before
        )
        if any(c in before for c in cues.MYNUMBER_CUES) and len(digits) == 12:
            found.append(Found(run.start, run.end, "mynumber", "マイナンバーらしい: 12桁の個人番号"))
        elif _is_phone(run):
            office = any(c in before for c in cues.OFFICE_PHONE_CUES) or _OFFICE_NUMBER.search(before) is not None
            personal = any(c in before for c in cues.PERSONAL_PHONE_CUES)
            if office and not personal:
                continue  # the office's own published number
            found.append(Found(run.start, run.end, "phone", "電話番号らしい: 0で始まる10〜11桁"))
        elif len(digits) == 12:
            found.append(Found(run.start, run.end, "mynumber", "マイナンバーらしい: 12桁の番号"))
        elif len(digits) == 8 and re.search(r"電話|携帯|連絡先|TEL|ＴＥＬ|でんわ", before) and not id_cue:
            found.append(Found(run.start, run.end, "phone", "電話番号らしい: 市外局番のない8桁"))
        elif re.search(r"(?:普通|当座)(?:預金)?(?:口座)?(?:の|で|、)?\s*$", before):
            found.append(Found(run.start, run.end, "account", "口座番号らしい: 『普通』『当座』の後"))
        elif re.search(r"ナンバー(?:プレート)?(?:は|が|、)?\s*$", before) and len(digits) == 4:
            found.append(Found(run.start, run.end, "plate", "車のナンバーらしい: 『ナンバー』の後の4桁"))
        elif any(c in before for c in cues.ACCOUNT_CUES):
            found.append(Found(run.start, run.end, "account", "口座・カード番号らしい: 『口座』などの後の番号"))
        elif len(digits) == 16:
            found.append(Found(run.start, run.end, "account", "カード番号らしい: 16桁の番号"))
        elif any(c in before for c in cues.ID_CUES) and not re.search(r"第\s*$|電話番号", before):
            found.append(Found(run.start, run.end, "id", "番号らしい: 『被保険者番号』などの後"))
    return found


_ALNUM_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,3}[-‐ー]?\d{3,10}(?![A-Za-z0-9])")


def ids_with_letters(text: str, v: str) -> list[Found]:
    """Ids such as A123456 or AB-1234 after an id cue (保険証の記号は…)."""
    found = []
    for m in _ALNUM_ID.finditer(v):
        before = _before(text, m.start(), 24)
        if any(c in before for c in (*cues.ID_CUES, *cues.ACCOUNT_CUES)):
            found.append(Found(m.start(), m.end(), "id", "番号らしい: 『番号』などの後の英数字"))
    return found


# --- e-mail, postal codes ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SPOKEN_AT = re.compile(r"\s*(?:アットマーク|あっとまーく|アット|あっと|@)\s*")
_SPOKEN_DOT = r"(?:\s*(?:ドット|どっと|てん|\.)\s*)"
_ROMAN = r"[A-Za-z0-9_\-]+"
_KATA_WORD = rf"[{KATAKANA}ー]+"
_TLD = (
    r"(?:com|jp|net|org|ne|co|or|ac|go|ed|info|biz"
    r"|コム|ジェーピー|ジェイピー|ネット|オルグ|エヌイー|シーオー|オーアール)"
)


_SPOKEN_EMAIL = re.compile(
    rf"(?:{_ROMAN}|{_KATA_WORD})(?:(?:{_SPOKEN_DOT}|\s|アンダーバー|ハイフン)(?:{_ROMAN}|{_KATA_WORD})){{0,8}}"
    rf"{_SPOKEN_AT.pattern}(?:{_ROMAN}|{_KATA_WORD})(?:{_SPOKEN_DOT}(?:{_ROMAN}|{_TLD}))+"
)
_AT_WORD = re.compile(r"アットマーク|あっとまーく|アット|あっと")


def emails(text: str, v: str) -> list[Found]:
    found = [Found(m.start(), m.end(), "email", "メールアドレスらしい: @ を含む") for m in _EMAIL.finditer(v)]
    # The spoken form is looked for only around a spoken @: the pattern is costly on long katakana runs.
    done = -1
    for at in _AT_WORD.finditer(v):
        if at.start() < done:
            continue
        lo = max(0, at.start() - 80)
        for m in _SPOKEN_EMAIL.finditer(v, lo, min(len(v), at.end() + 80)):
            if m.start() <= at.start() < m.end() and not _EMAIL.search(m.group()):
                found.append(Found(m.start(), m.end(), "email", "メールアドレスらしい: 『アットマーク』と『ドット』"))
                done = m.end()
                break
    return found


_POSTAL = re.compile(r"〒\s?\d{3}-?\d{4}(?!\d)|(?<![\d,.\-])\d{3}-\d{4}(?![\d,]|-\d)")


def postal_codes(v: str) -> list[Found]:
    return [Found(m.start(), m.end(), "address", "郵便番号らしい") for m in _POSTAL.finditer(v)]


# --- addresses ----------------------------------------------------------------------------------------------

_NAME_CHARS = f"{HIRAGANA}{KATAKANA}{KANJI}々ヶヵー"
_TOWN = rf"(?:(?![のをがはにでともへやかけ])[{_NAME_CHARS}])"
_NUM = r"[\d十百]{1,5}"
_KANA_NUM = r"(?:いち|に|さん|よん|し|ご|ろく|なな|しち|はち|きゅう|く|じゅう|ひゃく|ぜろ|にじゅう|さんじゅう)+"


def _address_pattern() -> re.Pattern[str]:
    prefecture = rf"(?:東京都|北海道|(?:京都|大阪)府|[{KANJI}]{{2,3}}県)"
    city = rf"(?:{_TOWN}{{1,5}}?市)"
    ward = rf"(?:{_TOWN}{{1,4}}?[区町村])"
    room = rf"(?:\s?の?{_TOWN}{{0,12}}?{_NUM}号室)?"
    chome = rf"{_NUM}丁目(?:の?{_NUM}(?:番地?|-|の)(?:{_NUM})?(?:号|-{_NUM})?)?"
    banchi = rf"{_NUM}番地(?:の?{_NUM}号?)?|{_NUM}番{_NUM}号?"
    dashed = rf"{_NUM}(?:-|の){_NUM}(?:(?:-|の){_NUM})?"
    spoken = rf"{_KANA_NUM}ちょうめ(?:\s?(?:の\s?)?{_KANA_NUM}(?:ばんち|ばん)(?:\s?(?:の\s?)?{_KANA_NUM}(?:ごう)?)?)?"
    with_unit = (
        rf"(?:{prefecture}{city}?{ward}?|{city}{ward}?|{ward}){_TOWN}{{0,12}}?\s?(?:{chome}|{banchi}|{dashed}|{spoken})"
    )
    bare = rf"{_TOWN}{{1,12}}?\s?(?:{chome}|{banchi}|{spoken})"
    return re.compile(rf"(?:{with_unit}|(?<![{_NAME_CHARS}]){bare}){room}(?!\d|駅|線|条|項|号議案)")


_ADDRESS = _address_pattern()
_PLACE_BACK = re.compile(rf"(?:[{KANJI}{KATAKANA}ヶケ々ー\d丁目番地号\-]+区の?)?[{KANJI}{KATAKANA}ヶケ々ー\d\-]+$")
_REST = re.compile(
    rf"[{KANJI}{KATAKANA}ヶケ々ー\d\-\s丁目番地号のちょうめばんごう{HIRAGANA}]{{1,40}}?(?=です|でございます|になります|ですね|、|。|$|に住|で[すご]|と|ね)"
)


# 市役所は北区中之島1丁目3番20号にあります, 十三本町1丁目付近で工事: a public place, not someone's home.
_PUBLIC_BEFORE = re.compile(
    r"(?:役所|庁舎|センター|図書館|会館|ホール|公園|病院|学校|事務所|本社|支店|会場|施設|駅|工場|事業所)"
    r"(?:の所在地|の住所)?(?:は|が|、)\s*$"
)
_PUBLIC_AFTER = re.compile(
    r"\s*(?:付近|周辺|一帯|地区|界隈|エリア|方面|の交差点|の工事|で工事|の現場|にあります|にある|に移転)"
)


def _public_place(text: str, start: int, end: int) -> bool:
    return _PUBLIC_BEFORE.search(_before(text, start, 20)) is not None or _PUBLIC_AFTER.match(text, end) is not None


_HOME = re.compile(r"住所|住ん|住ま|在住|自宅|お宅|家|実家|転居|引っ越|送付先|届け先|〒")


def _precise(v: str, start: int, end: int, text: str) -> bool:
    """A house (…番…号, 1-2-3) or a 丁目 said as where someone lives; 中之島2丁目の再開発 is a district."""
    if re.search(r"番|号|\d-\d|ばん|ごう", v[start:end]):
        return True
    return _HOME.search(text[max(0, start - 12) : start] + text[end : end + 8]) is not None


def addresses(text: str, v: str) -> list[Found]:
    found = [
        Found(m.start(), m.end(), "address", "住所らしい: 町名と丁目・番地")
        for m in _ADDRESS.finditer(v)
        if not _public_place(text, m.start(), m.end()) and _precise(v, m.start(), m.end(), text)
    ]
    # 四貫島に住んでいます: the place before a cue of residence is where someone lives.
    for cue in cues.RESIDENCE_AFTER:
        for m in re.finditer(re.escape(cue), text):
            place = _PLACE_BACK.search(text[max(0, m.start() - 20) : m.start()])
            if place and len(place.group()) >= 2:
                start = m.start() - len(place.group())
                found.append(Found(start, m.start(), "address", f"住所らしい: 『{cue}』の前"))
    for cue in cues.RESIDENCE_BEFORE:
        for m in re.finditer(re.escape(cue), text):
            rest = _REST.match(text, m.end())
            if rest and len(rest.group().strip()) >= 2:
                found.append(Found(m.end(), rest.end(), "address", f"住所らしい: 『{cue}』の後"))
    return found


# --- birth dates ---------------------------------------------------------------------------------------------

_N = r"[0-9０-９〇一二三四五六七八九十元]{1,4}"
_DATE = re.compile(
    rf"(?:(?:昭和|平成|令和|大正|西暦)\s?{_N}\s?年(?:\s?の?\s?{_N}\s?月(?:\s?{_N}\s?日)?)?"
    rf"|(?:[0-9０-９]{{4}}|{_N})\s?年\s?{_N}\s?月\s?{_N}\s?日|{_N}\s?月\s?{_N}\s?日)"
)
_SLASHED = re.compile(
    r"(?<![\d/])(?:19|20)\d{2}[/.]\d{1,2}[/.]\d{1,2}(?![\d/])|(?:[SHRshr])\d{1,2}[./]\d{1,2}[./]\d{1,2}"
)


_OLD_FULL_DATE = re.compile(rf"(?:昭和|大正)\s?{_N}\s?年\s?の?\s?{_N}\s?月\s?{_N}\s?日")


def birth_dates(text: str) -> list[Found]:
    found = []
    for pattern in (_DATE, _SLASHED):
        for m in pattern.finditer(text):
            around = text[max(0, m.start() - 14) : m.start()] + "|" + text[m.end() : m.end() + 8]
            cue = next((c for c in cues.BIRTH if c in around), None)
            if cue is None and _OLD_FULL_DATE.match(m.group()):
                # A full date of 昭和 or 大正 in a conversation is someone's birth, not a meeting or a deadline.
                found.append(Found(m.start(), m.end(), "birthdate", "生年月日らしい: 昭和・大正の年月日"))
                continue
            if cue is None:
                continue
            if pattern is _DATE and not re.search(r"年|月", m.group()):
                continue
            numbers_ok = all(kanji_number(n) is not None for n in re.findall(_N, m.group()))
            if numbers_ok:
                found.append(Found(m.start(), m.end(), "birthdate", f"生年月日らしい: 『{cue}』の近くの日付"))
    return found


# --- car plates ------------------------------------------------------------------------------------------------

_PLATE = re.compile(
    rf"(?:なにわ|とちぎ|[{KANJI}]{{1,4}})\s?\d{{2,3}}\s?(?:の\s?)?[{HIRAGANA}]\s?(?:の\s?)?"
    r"(?:\d{1,2}-\d{2}|\d{4}|[・.]{1,3}\d{1,3})"
)


def plates(text: str, v: str) -> list[Found]:
    found = []
    for m in _PLATE.finditer(v):
        before = _before(text, m.start(), 16)
        if any(c in before for c in cues.PLATE_CUES) or re.match(r"(?:なにわ|大阪|和泉|堺|神戸|京都|奈良)", m.group()):
            found.append(Found(m.start(), m.end(), "plate", "車のナンバーらしい: 地名・分類番号・かな・番号"))
    return found

"""People's names: context cues (名前は…, …と申します, …の母です, 息子の…, …さん), the analyser's 人名
words (SudachiPy) and GiNZA's Person entities, minus officials in their role (保護課の日下です,
田中課長) and titles, departments and roles, which are never names.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from service.personal_data import cues
from service.personal_data.nlp import Entity
from service.personal_data.patterns import Found


@dataclass(frozen=True)
class Token:
    surface: str
    pos: tuple[str, ...]
    start: int
    end: int
    oov: bool

    @property
    def person(self) -> bool:
        return self.pos[:3] == ("名詞", "固有名詞", "人名")

    @property
    def proper(self) -> bool:
        return self.pos[:2] == ("名詞", "固有名詞")

    @property
    def common(self) -> bool:
        return self.pos[:2] == ("名詞", "普通名詞") and not self.oov

    @property
    def function(self) -> bool:
        return self.pos[0] in ("助詞", "助動詞", "補助記号", "記号", "動詞", "形容詞", "副詞", "感動詞", "連体詞",
                               "接続詞", "代名詞", "空白", "形状詞")  # fmt: skip


_HIRA = re.compile(r"[\u3041-\u3096ー]+$")
_KANA_OR_KANJI = re.compile(r"[\u3041-\u3096\u30a1-\u30faー\u4e00-\u9fff々ヶ]+")
_FILLERS = re.compile(
    r"^(?:もしもし|あのー?|あー|えっと|えーと|えー|ええ|はい|うん|わたし|わたくし|私|僕|ぼく|こちら|そうです|まあ)+"
)
_TAIL = re.compile(r"(?:さん|様|さま|くん|君|ちゃん|氏|殿|って|の方)$")
_STOP_AFTER_NAME = ("です", "でございます", "と申", "といい", "と言い", "っていい", "って言い", "になります",
                    "、", "。",
                    "？", "?", "って", "と言", "ね", "でして", "で、", "なんです", "と書", "で登録")  # fmt: skip


_PEOPLE_NOUNS = ("おばあ", "おじい", "おかあ", "おとう", "おにい", "おねえ", "ばあ", "じい", "赤", "お姉", "お兄",
                 "お母", "お父", "おば", "おじ", "お嬢", "坊", "お坊", "業者", "大家", "奥", "隣", "皆",
                 "運転手", "看護師", "医者", "先生", "ヘルパー", "ケアマネ",
                 "管理人", "家主", "店員", "係", "職員", "相手", "お客", "客", "お医者", "担任", "上司", "社長",
                 "友達", "近所", "民生委員", "弁護士", "司法書士", "警察", "郵便屋", "配達", "区長",
                 "市長")  # fmt: skip


def name_like(text: str, tokens: Sequence[Token], level: str) -> bool:
    """Could ``text`` (covered by ``tokens``) be a person's name? ``level``: how much the cue says:
    "strong" (名前は…, …と申します, 息子の…), "honorific" (…さん) or "weak" (…です, an entity)."""
    bare = re.sub(r"[・、 　]", "", text)
    if not 1 <= len(bare) <= 12 or not _KANA_OR_KANJI.fullmatch(bare):
        return False
    if bare in cues.NOT_NAMES or bare in _PEOPLE_NOUNS or any(bare.endswith(t) for t in cues.OFFICIAL_TITLES):
        return False
    if bare.endswith(cues.COMPANY_SUFFIXES) or bare.startswith(("株式会社", "有限会社")):
        return False
    if any(bare.endswith(u) for u in cues.OFFICE_UNITS) and not any(t.person for t in tokens):
        return False
    if any(t.person for t in tokens):
        return True
    if level == "weak":
        return False
    if len(bare) == 1 and (level != "strong" and (bare in cues.KIN or not re.fullmatch(r"[\u4e00-\u9fff]", bare))):
        return False
    if any(t.oov or t.proper for t in tokens):
        return True
    if re.fullmatch(r"[\u30a1-\u30faー]+", bare) and all(t.common for t in tokens):
        return False  # ボランティア, ヘルパー: katakana words the dictionary knows
    if _HIRA.fullmatch(bare) or re.fullmatch(r"[\u30a1-\u30faー]+", bare):
        shortest = 2 if level == "strong" else 3
        return len(bare) >= shortest and not any(t.pos[0] in ("動詞", "形容詞") for t in tokens)
    nouns = all(t.pos[0] in ("名詞", "接尾辞", "補助記号", "空白") for t in tokens)
    if level == "strong":
        # 土居, 蔀: surnames the analyser reads as common words; the cue is enough.
        return nouns and len(bare) <= 6 and not any(t.pos[:3] == ("名詞", "普通名詞", "サ変可能") for t in tokens)
    if len(bare) == 1:
        return True  # 蔀さん: one kanji with an honorific
    # Kanji the analyser reads as common words (日下 → 日 + 下): a name when it is not one common word.
    return len(tokens) >= 2 and nouns and len(bare) <= 4


def _covering(tokens: Sequence[Token], ends: list[int], start: int, end: int) -> list[Token]:
    """The tokens overlapping [start, end) (``ends``: the tokens' end offsets, in text order)."""
    i = bisect_right(ends, start)
    found = []
    while i < len(tokens) and tokens[i].start < end:
        found.append(tokens[i])
        i += 1
    return found


def _back(text: str, tokens: Sequence[Token], ends: list[int], end: int) -> tuple[int, int] | None:
    """The name-like words that end at ``end``: (start, end)."""
    while end > 0 and text[end - 1] in " 　":
        end -= 1  # やまもと はなこ です
    if end > 0 and re.match(r"[\u3041-\u3096ー]", text[end - 1]):
        # Names in hiragana fall apart into particles (やま|も|と|はなこ): take the run of hiragana.
        start = end
        while start > 0 and re.match(r"[\u3041-\u3096ー]", text[start - 1]):
            start -= 1
        inside = _covering(tokens, ends, start, end)
        if inside and all(t.pos[0] in ("助詞", "助動詞") for t in inside):
            return None  # 翔がです: a particle, not a name in hiragana
        if len(inside) > 1 and inside[0].pos[0] == "助詞" and inside[0].start <= start:
            start = inside[1].start  # 私は|さとう: the particle before the name
        # それでやまださん: when the analyser knows the name at the end of the run, the name is that.
        k = len(inside)
        while k > 0 and inside[k - 1].person and inside[k - 1].start >= start:
            k -= 1
        words = ("接続詞", "感動詞", "副詞", "代名詞", "連体詞", "動詞", "助動詞")
        if k < len(inside) and inside[-1].end == end and any(t.pos[0] in words for t in inside[:k]):
            start = inside[k].start  # それ|で|やまだ: a word that is no part of a name comes before
        # 山本きよ: a surname in kanji before a given name in hiragana.
        gap = 1 if start > 0 and text[start - 1] in " 　" else 0
        j = bisect_right(ends, start - gap) - 1
        if j >= 0 and tokens[j].end == start - gap and tokens[j].person:
            start = tokens[j].start
        return start, end
    j = bisect_right(ends, end) - 1
    start = end
    count = 0
    while j >= 0 and count < 4 and tokens[j].end == start:
        t = tokens[j]
        before = tokens[j - 1] if j > 0 else None
        joinable = before is not None and (not before.function or re.fullmatch(r"[\u4e00-\u9fff]{1,4}", before.surface))
        if t.surface in ("、", " ", "　", "・") and count and joinable:
            start = t.start  # 轟、由美 / 山本 花子: one name said in two parts
            j -= 1
            continue
        kanji_word = re.fullmatch(r"[\u4e00-\u9fff]{1,4}", t.surface) is not None and t.pos[0] != "補助記号"
        if (t.function and not (kanji_word and count)) or t.surface == "の" or (t.pos[0] == "接尾辞" and count):
            break
        start = t.start
        count += 1
        j -= 1
    return (start, end) if start < end else None


def _staff(text: str, start: int) -> bool:
    """保護課の日下, 区役所の山田, こちら保護課…: an official introducing themself in their role."""
    before = text[max(0, start - 12) : start]
    if before.endswith("の"):
        head = before[:-1]
        staff_titles = tuple(t for t in cues.OFFICIAL_TITLES if t not in ("委員", "議員", "議長", "委員長", "副委員長"))
        return any(head.endswith(u) for u in cues.OFFICE_UNITS) or head.endswith(staff_titles)
    return bool(re.search(r"(?:課|局|係|室|センター|区役所|市役所|担当)(?:、|\s)?$", before))


def official(text: str, start: int, end: int) -> bool:
    """A name said as an official's: 保護課の日下, 田中課長."""
    return _staff(text, start) or text.startswith(cues.OFFICIAL_TITLES, end)


def _clean(text: str, start: int, end: int) -> tuple[int, int]:
    span = text[start:end]
    lead = _FILLERS.match(span)
    if lead:
        start += lead.end()
        span = text[start:end]
    span = span.lstrip("、 　")
    start = end - len(span)
    end -= len(span) - len(span.rstrip("、 　"))
    span = text[start:end]
    tail = _TAIL.search(span)
    if tail:
        end -= len(tail.group())
    return start, end


def by_cues(text: str, tokens: Sequence[Token]) -> list[Found]:
    found: list[Found] = []
    starts = {t.start: i for i, t in enumerate(tokens)}
    ends = [t.end for t in tokens]

    def add(start: int, end: int, reason: str, level: str) -> None:
        start, end = _clean(text, start, end)
        if start >= end:
            return
        covered = _covering(tokens, ends, start, end)
        company = text.startswith(cues.COMPANY_SUFFIXES, end)
        if name_like(text[start:end], covered, level) and not _staff(text, start) and not company:
            found.append(Found(start, end, "name", reason))

    # 名前は山本な子です (the name after the cue, up to です/と申します/、)
    for cue in cues.NAME_BEFORE:
        for m in re.finditer(re.escape(cue), text):
            rest = text[m.end() : m.end() + 16]
            stop = min((k for k in (rest.find(s) for s in _STOP_AFTER_NAME) if k > 0), default=-1)
            if stop > 0:
                add(m.end(), m.end() + stop, f"氏名らしい: 『{cue}』の後", "strong")
    # 山本と申します / 山本でございます / 山本です
    for cue in cues.SELF_INTRO:
        for m in re.finditer(re.escape(cue), text):
            span = _back(text, tokens, ends, m.start())
            if span:
                add(*span, f"氏名らしい: 『{cue}』の前", "weak" if cue == "です" else "strong")
    # 山本の母です (the name before), 息子の太郎が (the name after)
    for kin in cues.KIN:
        for m in re.finditer(rf"の{re.escape(kin)}(?=です|でござ|が|は|も|と|に|を|、|。|なん|として|で)", text):
            span = _back(text, tokens, ends, m.start())
            if span:
                add(*span, f"氏名らしい: 『の{kin}』の前", "strong")
        for m in re.finditer(rf"(?<![\u4e00-\u9fff]){re.escape(kin)}の", text):
            after = m.end()
            index = starts.get(after)
            if index is None:
                continue
            j = index
            while j < len(tokens) and not tokens[j].function and j - index < 3:
                j += 1
            end = tokens[j - 1].end if j > index else after
            if end == after and _HIRA.match(
                text[after : after + 2] or "-"
            ):  # 息子のたろうが: hiragana up to a particle
                m2 = re.match(r"[\u3041-\u3096ー]{2,8}?(?=が|は|も|と|に|を|です|、|。|の)", text[after:])
                end = after + len(m2.group()) if m2 else after
            if end > after:
                add(after, end, f"氏名らしい: 『{kin}の』の後", "strong")
    # 山本さん / 山田様
    for i, t in enumerate(tokens):
        if t.surface in cues.HONORIFICS and i > 0:
            span = _back(text, tokens, ends, t.start)
            if span:
                add(*span, f"氏名らしい: 『{t.surface}』の前", "honorific")
    return found


def by_analysis(text: str, tokens: Sequence[Token], entities: Sequence[Entity]) -> list[Found]:
    """Full names the analyser knows (山田 太郎) and GiNZA's Person entities."""
    found: list[Found] = []
    ends = [t.end for t in tokens]
    for a, b in pairwise(tokens):
        full = a.person and b.person and a.pos[3] == "姓" and b.pos[3] == "名" and a.end == b.start
        if full and not official(text, a.start, b.end) and not text.startswith(cues.COMPANY_SUFFIXES, b.end):
            found.append(Found(a.start, b.end, "name", "氏名らしい: 姓と名"))
    for entity in entities:
        if entity.label != "Person":
            continue
        # An entity running over a space or a label (日下 相手:) is cut there: each part on its own.
        for part in re.finditer(r"[^\s、。,:：]+", text[entity.start : entity.end]):
            start, end = entity.start + part.start(), entity.start + part.end()
            covered = _covering(tokens, ends, start, end)
            while covered and covered[-1].pos[0] in ("助詞", "助動詞") and covered[-1].start > start:
                end = covered.pop().start  # 山本きよと: the particle after the name is not the name
            if not covered:
                continue
            if official(text, start, end) or text.startswith((":", "：", *cues.COMPANY_SUFFIXES), end):
                continue
            if not any(t.person or t.oov for t in covered):
                continue  # GiNZA alone on a common word is too often wrong on spoken text
            if name_like(text[start:end], covered, "honorific"):
                found.append(Found(start, end, "name", "氏名らしい: 人名の固有表現"))
    return found

"""公開用 (publication copy for 情報公開): candidates of personal data in Japanese text, and masking.

``find_personal_data`` proposes spans; a clerk confirms, rejects or adds spans (``api.routes.publication``)
and the export replaces every kept span by ■ of the same length. Kinds:

- ``phone``: fixed and mobile numbers, with or without separators (06-6208-7111, 09012345678,
  06(6208)7111, spoken 090の1234の5678, +81 6 …), half or full width;
- ``mynumber``: 12-digit individual numbers (1234 5678 9012, with or without separators);
- ``postal``: 〒530-8201 and ###-#### codes;
- ``address``: prefecture/city/ward + town + 丁目/番地/号 or 1-2-3 (大阪市北区中之島1丁目3番20号,
  西成区岸里1-2-3, 中之島一丁目), with the room (305号室) when given;
- ``email``;
- ``name``: the transcript's speaker names (田中課長 and 田中), 人名 terms of the dictionaries, and
  names the morphological analyser (SudachiPy) tags 人名 with an honorific or title after them
  (佐藤さん, 山田太郎様, 鈴木氏, 田中課長), a full name (山田太郎), or a proper noun with an honorific
  (ダイキンさん), a surname introducing its bearer (中島です); common nouns with an honorific (皆さん,
  お客様, 娘さん) and speaker names that are roles (区民, 司会) are not names, and a surname alone is
  not one either (鶴橋 and 杭全 are places too). In the header, every item of 出席者 and 相手方 is
  a name.

Ordinary numbers are never candidates: amounts (3億4,500万円), hours (1,870時間), dates (令和7年4月1日,
2025年), counts, percentages, times and article numbers (第9条). The patterns run on a view of the text
with one character for one (full-width digits and letters as half-width, kanji digits as digits,
dashes as -), so every span is an offset into the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dictionaries.reading import sudachi_tokenizer
from dictionaries.text import HIRAGANA, KANJI, KATAKANA

MASK = "■"
KINDS = ("phone", "mynumber", "postal", "address", "email", "name")

HONORIFICS = ("さん", "様", "さま", "氏", "君", "くん", "ちゃん", "殿")
OFFICIAL_TITLES = (
    "課長代理",
    "課長補佐",
    "副区長",
    "副市長",
    "副委員長",
    "委員長",
    "課長",
    "係長",
    "部長",
    "局長",
    "区長",
    "室長",
    "所長",
    "次長",
    "主任",
    "主査",
    "主事",
    "参事",
    "委員",
    "議員",
    "議長",
    "市長",
    "先生",
    "弁護士",
)
TITLES = OFFICIAL_TITLES + HONORIFICS  # what may follow a name
SELF_INTRODUCTIONS = ("です", "でござい", "と申", "といい", "と言い", "でした")
# Categories of dictionary terms whose terms are people's names.
PERSON_CATEGORIES = ("人名", "氏名", "人物", "個人名", "person", "name")


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    kind: str
    text: str


# --- a one-for-one view of the text for the patterns ---------------------------------------------

_DASHES = "‐‑‒–—―−－﹣ｰ"
_KANJI_DIGITS = "〇一二三四五六七八九"


def _view(text: str) -> str:
    out = []
    for c in text:
        code = ord(c)
        if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
            c = chr(code - 0xFEE0)
        elif c == "\u3000":
            c = " "
        elif c in _DASHES:
            c = "-"
        elif c in _KANJI_DIGITS:
            c = str(_KANJI_DIGITS.index(c))
        out.append(c)
    # ー between digits is a dash (06ー6208ー7111); elsewhere it is the long vowel of katakana words.
    return re.sub(r"(?<=\d)ー(?=\d)", "-", "".join(out))


_SEP = r"(?:[-\s.()（）]|の){0,2}"  # 06-6208-7111, 06 6208 7111, 06(6208)7111, 090の1234の5678
_PHONE = re.compile(
    rf"(?<![\d,.\-])(?:\+81{_SEP}\d{{1,4}}|\(?0\d{{1,4}}){_SEP}\d{{1,4}}{_SEP}\d{{3,4}}(?![\d,]|\.\d|-\d)"
)
_MYNUMBER = re.compile(
    r"(?<![\d,.\-])\d{4}[-\s]?\d{4}[-\s]?\d{4}(?![\d,]|\.\d|-\d|\s?(?:円|人|件|時間|年|%|個|枚|回|万|億|名))"
)
_POSTAL = re.compile(r"〒\s?\d{3}-?\d{4}(?!\d)|(?<![\d,.\-])\d{3}-\d{4}(?![\d,]|-\d)")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

_NAME_CHARS = f"{HIRAGANA}{KATAKANA}{KANJI}々ヶヵー"  # kana and kanji
_OSAKA_WARDS = [
    "都島区",
    "福島区",
    "此花区",
    "中央区",
    "西区",
    "港区",
    "大正区",
    "天王寺区",
    "浪速区",
    "西淀川区",
    "淀川区",
    "東淀川区",
    "東成区",
    "生野区",
    "旭区",
    "城東区",
    "鶴見区",
    "阿倍野区",
    "住之江区",
    "住吉区",
    "東住吉区",
    "平野区",
    "西成区",
    "北区",
]


def _address_pattern() -> re.Pattern[str]:
    town = f"[{_NAME_CHARS.replace('ー', '')}ー]"
    town = r"(?:(?![のをがはにでともへやか])" + town + r")"
    prefecture = rf"(?:東京都|北海道|(?:京都|大阪)府|[{KANJI}]{{2,3}}県)"
    city = rf"(?:{town}{{1,5}}?市)"
    ward = "(?:" + "|".join(_OSAKA_WARDS) + rf"|{town}{{1,4}}?[区町村])"
    number = r"\d{1,4}"
    room = rf"(?:\s?の?{town}{{0,12}}?{number}号室)?"
    chome = rf"{number}丁目(?:{number}(?:番地?|-)(?:{number})?(?:号|-{number})?)?"
    banchi = rf"{number}番地(?:の?{number}号?)?|{number}番{number}号"
    dashed = rf"{number}-{number}(?:-{number})?"
    with_unit = rf"(?:{prefecture}{city}?{ward}?|{city}{ward}?|{ward}){town}{{0,12}}?(?:{chome}|{banchi}|{dashed})"
    bare = rf"{town}{{1,12}}?(?:{chome}|{banchi})"
    return re.compile(rf"(?:{with_unit}|(?<![{_NAME_CHARS}]){bare}){room}(?!\d|駅|線)")


_ADDRESS = _address_pattern()


def _spans(pattern: re.Pattern[str], view: str, text: str, kind: str) -> list[Candidate]:
    return [Candidate(m.start(), m.end(), kind, text[m.start() : m.end()]) for m in pattern.finditer(view)]


def _phones(view: str, text: str) -> list[Candidate]:
    found = []
    for match in _PHONE.finditer(view):
        digits = re.sub(r"\D", "", match.group())
        if match.group().startswith("+81"):
            ok = len(digits) in (11, 12)  # 81 and the number without its leading 0
        elif len(digits) == 11:  # mobile, IP phones, 0800
            ok = digits.startswith(("020", "050", "060", "070", "080", "090", "0800"))
        else:  # fixed lines (06-6208-7111) and 0120-123-456
            ok = len(digits) == 10 and digits[1] != "0"
        if ok:
            start, end = match.start(), match.end()
            if view[start] == "(" and ")" not in view[start:end]:
                start += 1
            found.append(Candidate(start, end, "phone", text[start:end]))
    return found


# --- names ---------------------------------------------------------------------------------------


def _tokenizer() -> Any:
    # Mode C: a full name or a proper noun as one unit. The analyser's dictionary is the one loaded for readings.
    return sudachi_tokenizer("C")


def _is_person(pos: tuple[str, ...]) -> bool:
    return pos[:3] == ("名詞", "固有名詞", "人名")


def _names_by_analysis(text: str) -> list[Candidate]:
    tokens = [
        (m.surface(), tuple(m.part_of_speech()), m.begin(), m.end(), m.is_oov()) for m in _tokenizer().tokenize(text)
    ]
    found: list[Candidate] = []
    i = 0
    while i < len(tokens):
        surface, pos, start, end, oov = tokens[i]
        j = i
        while _is_person(tokens[j][1]) and j + 1 < len(tokens) and _is_person(tokens[j + 1][1]):
            j += 1  # 山田 太郎: one name
        end = tokens[j][3]
        following = tokens[j + 1][0] if j + 1 < len(tokens) else ""
        honorific = following in HONORIFICS or following.startswith(OFFICIAL_TITLES)
        person = _is_person(pos)
        proper = pos[:2] == ("名詞", "固有名詞") and pos[2] != "地名" and following in HONORIFICS
        unknown = oov and following in HONORIFICS and re.fullmatch(f"[{_NAME_CHARS}]+", surface) is not None
        full_name = person and j > i
        # A surname alone is often a place (鶴橋, 杭全): only as a self-introduction (中島です, 中島と申します).
        rest = text[end : end + 6]
        alone = person and pos[3] == "姓" and rest.startswith(SELF_INTRODUCTIONS)
        if (person and honorific) or proper or unknown or full_name or alone:
            found.append(Candidate(start, end, "name", text[start:end]))
        i = j + 1
    return found


def name_variants(name: str) -> list[str]:
    """A speaker's name as it may appear: 田中課長 → 田中課長, 田中; 山田 太郎 → 山田太郎, 山田 太郎, 山田."""
    name = name.strip()
    variants: list[str] = []

    def add(value: str) -> None:
        value = value.strip()
        if len(value) >= 2 and value not in variants:
            variants.append(value)

    add(name)
    parts = name.split()
    if len(parts) > 1:
        add("".join(parts))
        add(parts[0])
    base = "".join(parts)
    for title in TITLES:
        if base.endswith(title) and len(base) - len(title) >= 2:
            add(base[: -len(title)])
            break
    return variants


def _names_given(text: str, names: Iterable[str]) -> list[Candidate]:
    found = []
    for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
        start = text.find(name)
        while start >= 0:
            found.append(Candidate(start, start + len(name), "name", name))
            start = text.find(name, start + len(name))
    return found


# --- all together --------------------------------------------------------------------------------


def _merge(candidates: list[Candidate], text: str) -> list[Candidate]:
    """Overlapping candidates become one span (the kind of the longest)."""
    merged: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.start, -(c.end - c.start))):
        if merged and candidate.start < merged[-1].end:
            last = merged[-1]
            if candidate.end > last.end:
                kind = last.kind if last.end - last.start >= candidate.end - candidate.start else candidate.kind
                merged[-1] = Candidate(last.start, candidate.end, kind, text[last.start : candidate.end])
            continue
        merged.append(candidate)
    return merged


def find_personal_data(text: str, names: Iterable[str] = (), *, analyse_names: bool = True) -> list[Candidate]:
    """Candidate spans of personal data in ``text``, sorted and without overlaps.

    ``names``: known names to find wherever they occur (speaker names as ``name_variants`` gives them,
    人名 dictionary terms and their aliases).
    """
    if not text:
        return []
    view = _view(text)
    candidates = [
        *_phones(view, text),
        *_spans(_MYNUMBER, view, text, "mynumber"),
        *_spans(_POSTAL, view, text, "postal"),
        *_spans(_EMAIL, view, text, "email"),
        *_spans(_ADDRESS, view, text, "address"),
        *_names_given(text, names),
    ]
    if analyse_names:
        candidates += _names_by_analysis(text)
    return _merge(candidates, text)


def mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with every span replaced by ■ of the same length."""
    chars = list(text)
    for start, end in spans:
        for k in range(max(0, start), min(len(chars), end)):
            if not chars[k].isspace():
                chars[k] = MASK
    return "".join(chars)


# --- the publication copy of a recording's minutes -----------------------------------------------
#
# A copy is {"spans": [...], "next_id": n, "lost": n}. A span is {"id", "target", "start", "end",
# "text", "kind", "source" (auto | manual), "status" (proposed | confirmed | rejected)}; its target
# names a piece of the minutes: "header.<key>", "speaker.<id>" (the speaker's name) or
# "segment.<index>" (an utterance). Every span that is not rejected is masked: a candidate nobody
# has looked at yet is masked too, so an unreviewed copy never shows more than a reviewed one.

STATUSES = ("proposed", "confirmed", "rejected")


def minutes_fields(body: dict[str, Any]) -> dict[str, str]:
    """Every piece of text of a minutes body that a publication copy may mask, by target."""
    fields: dict[str, str] = {}
    for key, value in (body.get("header") or {}).items():
        if isinstance(value, str) and value and key != "held_at":
            fields[f"header.{key}"] = value
    transcript = body.get("transcript") or {}
    for speaker in transcript.get("speakers") or []:
        if speaker.get("name"):
            fields[f"speaker.{speaker['id']}"] = str(speaker["name"])
    for index, segment in enumerate(transcript.get("segments") or []):
        fields[f"segment.{index}"] = str(segment.get("text") or "")
    return fields


def _common_noun(text: str) -> bool:
    """区民, 相談者, 司会: a role, not a name (one common noun or pronoun for the analyser)."""
    tokens = list(_tokenizer().tokenize(text))
    return len(tokens) == 1 and tuple(tokens[0].part_of_speech()[:2]) in {("名詞", "普通名詞"), ("代名詞", "*")}


def speaker_names(body: dict[str, Any]) -> list[str]:
    """The speakers' names (and their surnames) to look for in the text; roles (区民, 司会) are not names."""
    speakers = (body.get("transcript") or {}).get("speakers") or []
    names = [v for s in speakers if s.get("name") for v in name_variants(str(s["name"]))]
    return [n for n in names if not _common_noun(n)]


LIST_FIELDS = ("header.attendees", "header.counterpart")  # lists of people: every item is a name
_LIST_ITEM = re.compile(r"[^、,，・/／\s]+")


def candidates(target: str, text: str, names: list[str]) -> list[Candidate]:
    """The candidates of one piece of the minutes (``minutes_fields``)."""
    found = find_personal_data(text, names)
    if target.startswith("speaker.") and not _common_noun(text):  # a speaker's name is a name as a whole
        found = _merge([*found, Candidate(0, len(text), "name", text)], text)
    elif target in LIST_FIELDS:
        items = [Candidate(m.start(), m.end(), "name", m.group()) for m in _LIST_ITEM.finditer(text)]
        found = _merge([*found, *(c for c in items if not _common_noun(c.text))], text)
    return found


def _group(target: str) -> str:
    return "segment" if target.startswith("segment.") else target


def _keyed(spans: list[dict[str, Any]], fields: dict[str, str]) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    """Spans by (group, text of their utterance or field, their text, which occurrence of it there).

    Utterances are matched by their text, not their number: a decision survives utterances being
    inserted or deleted before it, and stays with the text it was made on.
    """
    keyed: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for span in sorted(spans, key=lambda s: (_target_order(s["target"]), s["start"])):
        base = (_group(span["target"]), fields.get(span["target"], ""), span["text"])
        keyed[(*base, seen.get(base, 0))] = span
        seen[base] = seen.get(base, 0) + 1
    return keyed


def _relocate(span: dict[str, Any], old_fields: dict[str, str], fields: dict[str, str]) -> dict[str, Any] | None:
    """A manual span in the new text: the same utterance (by its text, nearest number first), else its text
    in the utterance of the same number; None when it is gone."""
    before = old_fields.get(span["target"], "")
    group = _group(span["target"])
    number = _target_order(span["target"])[1]
    same = [t for t, text in fields.items() if _group(t) == group and text == before and before]
    if same:
        target = min(same, key=lambda t: abs(_target_order(t)[1] - number))
        return {**span, "target": target}
    text = fields.get(span["target"], "")
    start = text.find(span["text"]) if span["text"] else -1
    return {**span, "start": start, "end": start + len(span["text"])} if start >= 0 else None


def refresh(
    old: dict[str, Any] | None, old_fields: dict[str, str] | None, fields: dict[str, str], names: list[str]
) -> dict[str, Any]:
    """New candidates for the minutes' current text (``fields``), keeping the clerk's decisions and additions.

    ``old_fields``: the text the old copy was made on (None: unknown, taken as unchanged). A decision
    stays with the same text in the same utterance; a manual span whose text is gone is dropped and
    counted in ``lost``.
    """
    old_spans: list[dict[str, Any]] = list((old or {}).get("spans") or [])
    old_fields = fields if old_fields is None else old_fields
    next_id = int((old or {}).get("next_id") or 1)
    previous = _keyed(old_spans, old_fields)
    spans: list[dict[str, Any]] = []
    for target, text in fields.items():
        for candidate in candidates(target, text, names):
            spans.append(
                {
                    "id": "",
                    "target": target,
                    "start": candidate.start,
                    "end": candidate.end,
                    "text": candidate.text,
                    "kind": candidate.kind,
                    "source": "auto",
                    "status": "proposed",
                }
            )
    for key, span in _keyed(spans, fields).items():
        before = previous.pop(key, None)
        if before is not None:
            span["id"], span["status"] = before["id"], before["status"]
        else:
            span["id"] = f"s{next_id}"
            next_id += 1
    lost = 0
    for before in previous.values():
        if before["source"] != "manual":
            continue  # an automatic candidate that is no longer found
        moved = _relocate(before, old_fields, fields)
        if moved is None:
            lost += 1
        else:
            spans.append(moved)
    spans.sort(key=lambda s: (_target_order(s["target"]), s["start"]))
    return {"spans": spans, "next_id": next_id, "lost": lost}


def _target_order(target: str) -> tuple[int, int, str]:
    kind, _, name = target.partition(".")
    rank = {"header": 0, "speaker": 1, "segment": 2}.get(kind, 3)
    return rank, int(name) if name.isdigit() else 0, name


def add_span(copy: dict[str, Any], fields: dict[str, str], target: str, start: int, end: int) -> dict[str, Any]:
    """A manual span (confirmed); raises ValueError when the target or the range does not exist."""
    text = fields.get(target)
    if text is None:
        raise ValueError(f"「{target}」はありません。")
    if not 0 <= start < end <= len(text):
        raise ValueError(f"範囲 {start}–{end} は「{target}」の外です。")
    next_id = int(copy.get("next_id") or 1)
    span = {
        "id": f"s{next_id}",
        "target": target,
        "start": start,
        "end": end,
        "text": text[start:end],
        "kind": "manual",
        "source": "manual",
        "status": "confirmed",
    }
    copy["next_id"] = next_id + 1
    copy.setdefault("spans", []).append(span)
    copy["spans"].sort(key=lambda s: (_target_order(s["target"]), s["start"]))
    return span


def masked_spans(copy: dict[str, Any]) -> dict[str, list[tuple[int, int]]]:
    by_target: dict[str, list[tuple[int, int]]] = {}
    for span in copy.get("spans") or []:
        if span["status"] != "rejected":
            by_target.setdefault(span["target"], []).append((span["start"], span["end"]))
    return by_target


def masked_minutes(body: dict[str, Any], copy: dict[str, Any]) -> dict[str, Any]:
    """The minutes body with every kept span masked (a new dict; ``body`` is not changed)."""
    spans = masked_spans(copy)
    header = {
        key: mask(value, spans.get(f"header.{key}", [])) if isinstance(value, str) else value
        for key, value in (body.get("header") or {}).items()
    }
    transcript = dict(body.get("transcript") or {})
    transcript["speakers"] = [
        {**s, "name": mask(str(s["name"]), spans.get(f"speaker.{s['id']}", []))} if s.get("name") else dict(s)
        for s in transcript.get("speakers") or []
    ]
    segments = []
    for index, segment in enumerate(transcript.get("segments") or []):
        text = mask(str(segment.get("text") or ""), spans.get(f"segment.{index}", []))
        # Word timings would give the masked words back: the copy keeps only the utterance text.
        segments.append({**segment, "text": text, "words": []})
    transcript["segments"] = segments
    transcript.pop("corrections", None)  # before/after texts of the dictionary's changes
    transcript.pop("flags", None)  # the doubtful places quote the unmasked text
    return {"header": header, "transcript": transcript}

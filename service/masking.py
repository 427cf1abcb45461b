"""公開用 (publication copy for 情報公開): candidates of personal data, and masking.

``service.personal_data`` proposes spans (names, addresses, birth dates, phone, individual, account and
id numbers, e-mail addresses, car plates; each with a reason for the clerk); a clerk confirms, rejects or
adds spans (``api.routes.publication``) and the export replaces every kept span by ■ of the same length.
The utterances of a transcript are read as one text, so a name split by a backchannel is still found.
Speaker labels are never candidates (they are roles or the staff's names: 財政課長, 委員A, 職員), nor
are the labels inside header fields (「対応:」「相手:」). How detection works: docs/personal_data.md.
"""

from __future__ import annotations

import re
from bisect import insort
from collections.abc import Iterable
from typing import Any

from dictionaries.reading import sudachi_tokenizer
from service.personal_data import KINDS as KINDS
from service.personal_data import Candidate as Candidate
from service.personal_data import detect, detect_texts
from service.personal_data.cues import HONORIFICS, OFFICIAL_TITLES

MASK = "■"
TITLES = OFFICIAL_TITLES + HONORIFICS  # what may follow a name
# Categories of dictionary terms whose terms are people's names.
PERSON_CATEGORIES = ("人名", "氏名", "人物", "個人名", "person", "name")


def _tokenizer() -> Any:
    return sudachi_tokenizer("C")


def find_personal_data(text: str, names: Iterable[str] = ()) -> list[Candidate]:
    """Candidate spans of personal data in ``text``, sorted and without overlaps.

    ``names``: known names to find wherever they occur (人名 dictionary terms and their aliases).
    """
    return detect(text, names)


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
    if len(parts) > 1:  # equivalent mutants (1): one part only adds the name again (skipped)
        add("".join(parts))
        add(parts[0])
    base = "".join(parts)
    for title in TITLES:
        if base.endswith(title) and len(base) - len(title) >= 2:
            add(base[: -len(title)])
            break
    return variants


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


def _is_person_name(text: str) -> bool:
    """山本花子 is a person; 財政課長, 委員A, 区民, 職員, S1 are roles or labels."""
    if any(text.endswith(t) for t in OFFICIAL_TITLES) or re.search(r"[A-Za-zＡ-Ｚａ-ｚ0-9０-９]$", text):
        return False
    tokens = list(_tokenizer().tokenize(text))
    return any(tuple(t.part_of_speech()[:3]) == ("名詞", "固有名詞", "人名") for t in tokens) and not _common_noun(text)


def speaker_names(body: dict[str, Any]) -> list[str]:
    """Speakers' names that are people's names (山本花子, and 山本), to look for in the text; roles and
    titles (区民, 司会, 財政課長, 委員A) are not names, and officials named with their title (田中課長)
    speak in their role."""
    speakers = (body.get("transcript") or {}).get("speakers") or []
    labels = [str(s["name"]).strip() for s in speakers if s.get("name")]
    people = [label for label in labels if _is_person_name(label)]
    return [v for label in people for v in name_variants(label) if _is_person_name(v)]


LIST_FIELDS = ("header.attendees", "header.counterpart")  # lists of people: every item is a name
_LIST_ITEM = re.compile(r"[^、,，・/／\s:：]+")
_FIELD_LABEL = re.compile(r"[^、,，・/／\s:：]+[:：]")  # 対応: 相手： — the label of an item, never a name


def _list_items(text: str) -> list[Candidate]:
    """The people of a list field (出席者, 相手方): every item but labels, titles and roles."""
    found = []
    for m in _LIST_ITEM.finditer(text):
        item = m.group()
        if (
            _common_noun(item)
            or any(item.endswith(t) for t in OFFICIAL_TITLES)
            or re.fullmatch(r".*[A-Za-zＡ-Ｚ]", item)
        ):
            continue
        found.append(Candidate(m.start(), m.end(), "name", item, "氏名らしい: 出席者・相手の欄"))
    return found


def _merge(found: list[Candidate], text: str) -> list[Candidate]:
    merged: list[Candidate] = []
    for c in sorted(found, key=lambda c: (c.start, -(c.end - c.start))):  # equivalent mutants (1): same start
        if merged and c.start < merged[-1].end:
            last = merged[-1]
            if c.end > last.end:  # equivalent mutants (1): >=: the same candidate again
                merged[-1] = Candidate(last.start, c.end, last.kind, text[last.start : c.end], last.reason)
            continue
        merged.append(c)
    return merged


_STAFF_LABELS = ("対応", "対応者", "担当", "担当者", "職員", "受付", "応対")


def _not_personal(text: str) -> set[int]:
    """Characters of a header field that are never candidates: its labels (対応: 相手:) and the staff
    named after a staff label (対応: 日下), who acted in their role."""
    out: set[int] = set()
    labels = list(_FIELD_LABEL.finditer(text))
    for k, label in enumerate(labels):
        out.update(range(label.start(), label.end()))
        if label.group()[:-1] in _STAFF_LABELS:
            stop = labels[k + 1].start() if k + 1 < len(labels) else len(text)
            out.update(range(label.end(), stop))
    return out


def candidates(target: str, text: str, names: list[str]) -> list[Candidate]:
    """The candidates of one header field or utterance (``minutes_fields``); speaker labels have none."""
    if target.startswith("speaker."):
        return []
    found = find_personal_data(text, names)
    if target in LIST_FIELDS:
        found = _merge([*found, *_list_items(text)], text)
    if target.startswith("header."):
        never = _not_personal(text)
        found = [c for c in found if not any(k in never for k in range(c.start, c.end))]
    return found


def all_candidates(fields: dict[str, str], names: list[str]) -> dict[str, list[Candidate]]:
    """Candidates of every field: the utterances read as one text, each header field on its own."""
    segments = [t for t in fields if t.startswith("segment.")]
    # equivalent mutants (2): utterances found on their own too are overwritten just below
    found = {t: candidates(t, text, names) for t, text in fields.items() if not t.startswith("segment.")}
    # equivalent mutants (3): one list of candidates per text
    for target, spans in zip(segments, detect_texts([fields[t] for t in segments], names), strict=True):
        found[target] = spans
    return found


def _group(target: str) -> str:
    return "segment" if target.startswith("segment.") else target  # equivalent mutants (2): any name: a key only


def _keyed(spans: list[dict[str, Any]], fields: dict[str, str]) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    """Spans by (group, text of their utterance or field, their text, which occurrence of it there).

    Utterances are matched by their text, not their number: a decision survives utterances being
    inserted or deleted before it, and stays with the text it was made on.
    """
    keyed: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for span in sorted(spans, key=lambda s: (_target_order(s["target"]), s["start"])):
        # equivalent mutants (3): another default: a gone target's key matches no new span either
        base = (_group(span["target"]), fields.get(span["target"], ""), span["text"])
        keyed[(*base, seen.get(base, 0))] = span  # equivalent mutants (2): None: keys only need to differ
        seen[base] = seen.get(base, 0) + 1  # equivalent mutants (3): other steps: keys still differ
    return keyed


def _relocate(span: dict[str, Any], old_fields: dict[str, str], fields: dict[str, str]) -> dict[str, Any] | None:
    """A manual span in the new text: the same utterance (by its text, nearest number first), else its text
    in the utterance of the same number; None when it is gone."""
    before = old_fields.get(span["target"], "")  # equivalent mutants (3): None or "XXXX" match no text either
    group = _group(span["target"])
    number = _target_order(span["target"])[1]
    same = [t for t, text in fields.items() if _group(t) == group and text == before and before]
    if same:
        target = min(same, key=lambda t: abs(_target_order(t)[1] - number))
        return {**span, "target": target}
    text = fields.get(span["target"], "")  # equivalent mutants (1): "XXXX" holds no span's text either
    start = text.find(span["text"]) if span["text"] else -1  # equivalent mutants (3): a span always has text
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
    for target, found in all_candidates(fields, names).items():
        for candidate in found:
            spans.append(
                {
                    "id": "",  # equivalent mutants (1): "XXXX": every id is set just below
                    "target": target,
                    "start": candidate.start,
                    "end": candidate.end,
                    "text": candidate.text,
                    "kind": candidate.kind,
                    "reason": candidate.reason,
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
    spans.sort(key=_span_order)
    return {"spans": spans, "next_id": next_id, "lost": lost}


def _target_order(target: str) -> tuple[int, int, str]:
    kind, _, name = target.partition(".")
    # equivalent mutants (6): targets are only header/speaker/segment; segments stay last at any rank > 1
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
    # Kept in order by insertion (binary search), not by sorting again: thousands of additions in one
    # request stay O(n log n) comparisons (issue 23).
    insort(copy.setdefault("spans", []), span, key=_span_order)
    return span


def _span_order(span: dict[str, Any]) -> tuple[tuple[int, int, str], int]:
    return _target_order(span["target"]), span["start"]


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

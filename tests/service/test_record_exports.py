"""The record a city files (issue 22): each kind's Word export read back with python-docx — A4, 明朝
body, a PAGE field in the footer, the header fields entered, 「○名前　…」 paragraphs (one per change of
speaker), timestamps only when asked, 整文 without the fillers 全文 keeps — and the API around it:
fields sent with an upload, the record's file name, the 公開用 mark, administrators' templates."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from docx.shared import Length, Pt
from sqlmodel import Session, select

from service.exports import ExportOptions, export
from service.minutes import Minutes
from service.models import AuditEvent, Recording, TranscriptRecord
from tests.conftest import SINGLE
from tests.service.conftest import World

# A reference transcript whose speech has fillers (えー、あのー、まあ) and a stammered repeat.
TRANSCRIPT: dict[str, Any] = {
    "duration": 60.0,
    "speakers": [{"id": "S1", "name": "議長"}, {"id": "S2", "name": "財政課長"}, {"id": "S3"}],
    "segments": [
        {"start": 0.0, "end": 4.0, "speaker": "S1", "text": "えー、それでは、ただいまから会議を開会いたします。"},
        {"start": 4.0, "end": 8.0, "speaker": "S1", "text": "本日の議題は、令和8年度当初予算案についてです。"},
        {"start": 8.0, "end": 15.0, "speaker": "S2", "text": "あのー、予算、予算の総額は8,215億円でございます。"},
        {"start": 15.0, "end": 20.0, "speaker": "S3", "text": "まあ、前年度と比べてどうでしょうか。"},
        {"start": 20.0, "end": 26.0, "speaker": "S2", "text": "前年度より2.1%増えております。"},
        {"start": 26.0, "end": 30.0, "speaker": "S1", "text": "ほかにございませんか。"},
        {"start": 30.0, "end": 34.0, "speaker": "S1", "text": "それでは閉会いたします。"},
    ],
}
SPEAKER_CHANGES = 4  # S1 S1 | S2 | S3 | S2 | S1 S1
FILLERS = ("えー", "あのー", "まあ", "予算、予算")

HEADERS: dict[str, dict[str, str]] = {
    "meeting": {
        "title": "令和8年度予算説明会",
        "held_at": "2026年4月15日(水) 10:00",
        "closed_at": "11:30",
        "place": "北区役所 3階 第1会議室",
        "attendees": "田中課長、山田、佐藤",
        "absentees": "鈴木係長",
        "agenda": "令和8年度当初予算案について",
        "recorder": "北区 総務課 山本",
    },
    "interview": {
        "title": "保育所入所の相談",
        "held_at": "2026年5月1日(金) 14:00",
        "place": "北区役所 相談室2",
        "staff": "保健福祉課 佐藤",
        "counterpart": "大阪 花子",
        "purpose": "入所手続きの説明",
        "content": "必要書類と日程を説明した。",
        "follow_up": "書類を郵送する。",
    },
    "negotiation": {
        "title": "庁舎清掃業務の契約",
        "held_at": "2026年6月3日(水) 15:00",
        "place": "契約管財局 会議室",
        "company": "株式会社なにわクリーン",
        "attendees": "契約課長、担当 中村",
        "counterpart": "営業部長 木村",
        "progress": "単価の見直しを協議した。",
        "outcome": "単価は据え置き。次回、仕様書を確認する。",
    },
    "phone": {
        "title": "粗大ごみの収集日",
        "held_at": "2026年7月7日(火) 9:15",
        "staff": "環境局 高橋",
        "counterpart": "北区の住民",
        "subject": "粗大ごみの収集日の問合せ",
        "response": "次回の収集日を案内した。",
        "handover": "なし",
    },
}


def _minutes(kind: str) -> Minutes:
    return Minutes.model_validate({"header": HEADERS[kind], "transcript": TRANSCRIPT})


def _docx(kind: str, **options: Any) -> DocumentObject:
    data = export(_minutes(kind), "docx", kind, name="test", options=ExportOptions(**options))
    return Document(io.BytesIO(data))


def _speech(document: DocumentObject) -> list[str]:
    return [p.text for p in document.paragraphs if p.text.startswith("○")]


def _mm(length: Length | None) -> int:
    assert length is not None
    return round(float(length.mm))


def _east_asian_font(run: Any) -> str | None:
    fonts = run._r.rPr.find(qn("w:rFonts")) if run._r.rPr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


@pytest.mark.parametrize("kind", ["meeting", "interview", "negotiation", "phone"])
def test_each_kind_is_laid_out_as_a_city_record(kind: str) -> None:
    document = _docx(kind)
    section = document.sections[0]
    assert (_mm(section.page_width), _mm(section.page_height)) == (210, 297)  # A4 portrait
    margins = (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin)
    assert all(20 <= _mm(m) <= 30 for m in margins)  # as city documents use

    paragraphs = _speech(document)
    runs = [run for p in document.paragraphs if p.text.startswith("○") for run in p.runs if run.text]
    assert runs and all("明朝" in (_east_asian_font(run) or "") for run in runs)
    heading = document.paragraphs[0]
    assert heading.text == {"meeting": "会議録", "interview": "面談記録", "negotiation": "交渉記録"}.get(
        kind, "電話対応記録"
    )
    assert heading.style is not None
    assert "ゴシック" in (heading.style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) or "")

    footer = section.footer._element
    instructions = [t.text for t in footer.iter(qn("w:instrText"))]
    assert any(i.strip() == "PAGE" for i in instructions)
    assert section.footer.paragraphs[0].text.startswith("- ") and section.footer.paragraphs[0].text.endswith(" -")

    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    for key, value in HEADERS[kind].items():
        if kind == "meeting" and key in ("held_at", "closed_at"):
            assert cells["日時"] == "2026年4月15日(水) 10:00 開会 ～ 11:30 閉会"
        else:
            assert value in cells.values(), (key, value, cells)

    assert len(paragraphs) == SPEAKER_CHANGES + 1
    names = [re.match(r"○([^\u3000]+)\u3000", p).group(1) for p in paragraphs]  # type: ignore[union-attr]
    assert names == ["議長", "財政課長", "発言者A", "財政課長", "議長"]  # S3 had no name: 発言者A, never S3
    assert paragraphs[0].endswith("開会いたします。本日の議題は、令和8年度当初予算案についてです。")  # merged
    text = "\n".join(p.text for p in document.paragraphs)
    assert "[00:" not in text and "S3" not in text
    assert all(f in text for f in FILLERS)  # 全文: as said


def test_timestamps_only_when_asked() -> None:
    paragraphs = _speech(_docx("meeting", timestamps=True))
    assert paragraphs[0].startswith("○議長\u3000[00:00:00]") and "[00:00:15]" in paragraphs[2]


def test_tidy_removes_the_fillers_and_repeats_the_verbatim_keeps() -> None:
    tidy = "\n".join(_speech(_docx("meeting", tidy=True)))
    assert not any(f in tidy for f in FILLERS), tidy
    assert "○議長\u3000それでは、ただいまから会議を開会いたします。" in tidy
    assert "○財政課長\u3000予算の総額は8,215億円でございます。" in tidy
    # 整文 applies to the text formats too, and the minutes themselves stay verbatim.
    minutes = _minutes("meeting")
    txt = export(minutes, "txt", "meeting", name="t", options=ExportOptions(tidy=True)).decode()
    assert "えー" not in txt and "議長: それでは" in txt
    assert minutes.transcript.segments[0].text.startswith("えー、")


def test_publication_copy_is_marked_in_header_and_footer() -> None:
    document = _docx("interview", publication=True)
    section = document.sections[0]
    assert "公開用" in "".join(p.text for p in section.header.paragraphs)
    assert "公開用" in "".join(p.text for p in section.footer.paragraphs)
    assert "公開用" not in "".join(p.text for p in _docx("interview").sections[0].header.paragraphs)


# --- through the API ------------------------------------------------------------------------------


def _finish(world: World, recording_id: int, transcript: dict[str, Any]) -> None:
    """The transcript as a worker stores it (the recognition itself is tested elsewhere)."""
    with Session(world.engine) as db:
        db.add(TranscriptRecord(recording_id=recording_id, body=transcript))
        db.commit()


def _upload(client: Any, **data: str) -> dict[str, Any]:
    with SINGLE.open("rb") as handle:
        created = client.post("/api/v1/recordings", files={"file": ("call.flac", handle, "audio/flac")}, data=data)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_phone_fields_from_upload_reach_minutes_and_docx(world: World) -> None:
    clerk = world.client("clerk_kita")
    fields = {"staff": "環境局 高橋", "counterpart": "北区の住民", "subject": "粗大ごみの収集日"}
    created = _upload(clerk, kind="phone", title="粗大ごみ/収集日?", fields=json.dumps(fields, ensure_ascii=False))
    _finish(world, created["id"], TRANSCRIPT)
    minutes = clerk.get(f"/api/v1/recordings/{created['id']}/minutes").json()
    header = minutes["header"]
    assert {k: header[k] for k in fields} == fields
    assert re.fullmatch(
        r"\d{4}年\d{1,2}月\d{1,2}日\(.\) \d\d:\d\d",
        header["held_at"],
        # 受付日時 nobody entered: the recording's own time.
    )

    exported = clerk.get(f"/api/v1/recordings/{created['id']}/export", params={"format": "docx", "tidy": "true"})
    assert exported.status_code == 200
    disposition = exported.headers["content-disposition"]
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"\d{8}_粗大ごみ_収集日__電話対応記録\.docx", name), name  # / and ? are not for Windows
    document = Document(io.BytesIO(exported.content))
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert (
        cells["受付者"] == "環境局 高橋" and cells["相手方"] == "北区の住民" and cells["受付日時"] == header["held_at"]
    )
    assert "えー" not in "\n".join(p.text for p in document.paragraphs)
    with Session(world.engine) as db:
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.export")).all()
    assert [e.detail for e in events] == ["docx tidy"]

    refused = clerk.post(
        "/api/v1/recordings",
        files={"file": ("call.flac", SINGLE.read_bytes(), "audio/flac")},
        data={"kind": "phone", "fields": json.dumps({"password": "x"})},
    )
    assert refused.status_code == 422 and "項目" in refused.json()["detail"]


def _template(path: Path) -> bytes:
    """A department's template: its own fonts and styles, placeholders and a content control."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "BIZ UDP明朝 Medium"
    normal.font.size = Pt(12)
    speech = document.styles.add_style("発言", WD_STYLE_TYPE.PARAGRAPH)
    speech.base_style = normal
    speech.font.size = Pt(11)
    document.add_paragraph("北区役所 {{種類}}")
    document.add_paragraph("件名: {{件名}} / 受付: {{held_at}}")
    control = parse_xml(
        '<w:sdt xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:sdtPr><w:tag w:val="counterpart"/><w:showingPlcHdr/></w:sdtPr>'
        "<w:sdtContent><w:p><w:r><w:t>ここに相手方</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    document.element.body.insert(len(document.element.body) - 1, control)
    document.add_paragraph("{{本文}}", style="発言")
    document.add_paragraph("以上")
    document.save(str(path))
    return path.read_bytes()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_uploaded_template_keeps_its_styles_and_gets_the_fields(world: World, tmp_path: Path) -> None:
    admin = world.client("root_admin")
    clerk = world.client("clerk_kita")
    departments = {d["name"]: d["id"] for d in admin.get("/api/v1/admin/departments").json()}
    data = _template(tmp_path / "phone.docx")
    form = {"kind": "phone", "department_id": str(departments["北区役所 保健福祉課"])}
    files = {"file": ("北区電話.docx", data, "application/octet-stream")}
    assert clerk.post("/api/v1/admin/templates", data=form, files=files).status_code == 403
    added = admin.post("/api/v1/admin/templates", data=form, files=files)
    assert added.status_code == 201, added.text
    assert added.json()["active"] and added.json()["name"] == "北区電話.docx"
    bad = admin.post("/api/v1/admin/templates", data=form, files={"file": ("x.docx", b"not a zip", "text/plain")})
    assert bad.status_code == 422

    created = _upload(clerk, kind="phone", title="粗大ごみ", fields=json.dumps({"counterpart": "北区の住民"}))
    _finish(world, created["id"], TRANSCRIPT)
    exported = clerk.get(f"/api/v1/recordings/{created['id']}/export", params={"format": "docx"})
    document = Document(io.BytesIO(exported.content))
    assert document.styles["Normal"].font.name == "BIZ UDP明朝 Medium"  # the template's own look
    assert document.styles["Normal"].font.size == Pt(12)
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "北区役所 電話対応記録" and texts[1].startswith("件名: 粗大ごみ / 受付: 20")
    control = "".join(t.text for t in document.element.body.iter(qn("w:t")) if t.text == "北区の住民")
    assert control == "北区の住民" and "ここに相手方" not in "".join(document.element.body.itertext())
    speech = [p for p in document.paragraphs if p.text.startswith("○")]
    assert len(speech) == SPEAKER_CHANGES + 1 and all(p.style is not None and p.style.name == "発言" for p in speech)
    assert texts[-1] == "以上"

    # Another department's recording still gets the built-in layout.
    other = world.client("clerk_zaisei")
    theirs = _upload(other, kind="phone", title="税の相談")
    _finish(world, theirs["id"], TRANSCRIPT)
    plain = Document(io.BytesIO(other.get(f"/api/v1/recordings/{theirs['id']}/export").content))
    assert plain.paragraphs[0].text == "電話対応記録"

    listed = admin.get("/api/v1/admin/templates").json()
    assert [t["name"] for t in listed] == ["北区電話.docx"]
    assert admin.delete(f"/api/v1/admin/templates/{listed[0]['id']}").status_code == 204
    with Session(world.engine) as db:
        actions = [e.action for e in db.exec(select(AuditEvent)).all() if e.action.startswith("admin.template")]
        recording = db.get(Recording, created["id"])
        assert recording is not None
    assert actions == ["admin.template_add", "admin.template_remove"]
    back = Document(io.BytesIO(clerk.get(f"/api/v1/recordings/{created['id']}/export").content))
    assert back.paragraphs[0].text == "電話対応記録"


def test_a_title_as_long_as_an_upload_allows_still_exports() -> None:
    # Word's title property holds 255 characters; a 300-character title once failed the export.
    minutes = Minutes.model_validate({"header": {"title": "議" * 300}, "transcript": TRANSCRIPT})
    document = Document(io.BytesIO(export(minutes, "docx", "meeting", name="long")))
    assert {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}["会議名"] == "議" * 300


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_publication_copy_is_marked_masked_and_named(world: World) -> None:
    clerk = world.client("clerk_kita")
    fields = {"staff": "保健福祉課 佐藤", "counterpart": "大阪 花子", "purpose": "入所手続きの説明"}
    created = _upload(clerk, kind="interview", title="保育所の相談", fields=json.dumps(fields, ensure_ascii=False))
    _finish(world, created["id"], TRANSCRIPT)
    base = f"/api/v1/recordings/{created['id']}/publication"
    assert clerk.post(base).status_code == 201
    exported = clerk.get(f"{base}/export", params={"format": "docx"})
    assert exported.status_code == 200
    name = unquote(exported.headers["content-disposition"].split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"\d{8}_保育所の相談_面談記録_公開用\.docx", name), name
    document = Document(io.BytesIO(exported.content))
    section = document.sections[0]
    assert "【公開用】" in section.header.paragraphs[-1].text
    assert any("公開用" in p.text for p in section.footer.paragraphs)
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert "花子" not in cells["相手方"] and "■" in cells["相手方"]  # 氏名は公開用では伏せる
    assert cells["対応者"] == "保健福祉課 佐藤"
    txt = clerk.get(f"{base}/export", params={"format": "txt"}).text
    assert txt.startswith("【公開用】") and "花子" not in txt

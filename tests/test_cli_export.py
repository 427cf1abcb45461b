"""``kiroku export``: a transcript file becomes the record a city files, through the same code as the
API (the Word file is the one ``service.exports.export`` writes), with fields, 整文 and timestamps."""

from __future__ import annotations

import io
import json
from pathlib import Path

from docx import Document

from service.exports import ExportOptions, export
from service.minutes import Minutes
from tests.conftest import run_kiroku
from tests.service.test_record_exports import TRANSCRIPT


def _texts(data: bytes) -> tuple[list[str], dict[str, str]]:
    document = Document(io.BytesIO(data))
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    return [p.text for p in document.paragraphs], cells


def test_export_writes_the_same_record_as_the_api(tmp_path: Path) -> None:
    source = tmp_path / "call.json"
    source.write_text(json.dumps(TRANSCRIPT, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "call.docx"
    done = run_kiroku(
        "export", str(source), "--kind", "phone", "--tidy", "--timestamps",
        "--field", "件名=粗大ごみの収集日", "--field", "受付者=環境局 高橋", "--field", "handover=なし",
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    paragraphs, cells = _texts(out.read_bytes())
    header = {"title": "粗大ごみの収集日", "staff": "環境局 高橋", "handover": "なし"}
    minutes = Minutes.model_validate({"header": header, "transcript": TRANSCRIPT})
    api = export(minutes, "docx", "phone", name="call", options=ExportOptions(tidy=True, timestamps=True))
    assert (paragraphs, cells) == _texts(api)
    assert paragraphs[0] == "電話対応記録" and cells["件名"] == "粗大ごみの収集日" and cells["受付者"] == "環境局 高橋"
    speech = [p for p in paragraphs if p.startswith("○")]
    assert speech[0].startswith("○議長\u3000[00:00:00]\u3000それでは") and not any("えー" in p for p in speech)


def test_saved_minutes_keep_their_header_and_txt_is_written(tmp_path: Path) -> None:
    source = tmp_path / "minutes.json"
    minutes = {"revision": 3, "header": {"title": "予算説明会", "place": "北区役所"}, "transcript": TRANSCRIPT}
    source.write_text(json.dumps(minutes, ensure_ascii=False), encoding="utf-8")
    docx, txt = tmp_path / "m.docx", tmp_path / "m.txt"
    assert run_kiroku("export", str(source), "-o", str(docx)).returncode == 0
    _paragraphs, cells = _texts(docx.read_bytes())
    assert cells["会議名"] == "予算説明会" and cells["場所"] == "北区役所"
    assert run_kiroku("export", str(source), "--tidy", "-o", str(txt)).returncode == 0
    text = txt.read_text(encoding="utf-8")
    assert text.startswith("議長: それでは") and "えー" not in text and "[00:" not in text  # times: when asked


def test_mistakes_are_refused_clearly(tmp_path: Path) -> None:
    source = tmp_path / "t.json"
    source.write_text(json.dumps(TRANSCRIPT, ensure_ascii=False), encoding="utf-8")
    unknown = run_kiroku(
        "export", str(source), "--kind", "phone", "--field", "会議名=x", "-o", str(tmp_path / "a.docx")
    )
    assert unknown.returncode == 2 and "項目" in unknown.stderr
    pdf = run_kiroku("export", str(source), "-o", str(tmp_path / "a.pdf"))
    assert pdf.returncode == 2 and "拡張子" in pdf.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert run_kiroku("export", str(broken), "-o", str(tmp_path / "b.docx")).returncode == 2
    assert not (tmp_path / "a.docx").exists() and not (tmp_path / "b.docx").exists()

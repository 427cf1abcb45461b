"""The record as a Word document, laid out as Osaka City files it (docs/exports.md).

A4 portrait, margins of a city document (上下 25 mm, 綴じ代の左 30 mm, 右 20 mm), 明朝 body and
ゴシック headings, 「- 1 -」 page numbers in the footer, the kind's header table, then the utterances
in the council style 「○議長　それでは…」. An administrator's template (``service.records.templates``)
replaces the built-in look: its styles are kept and its placeholders get the header fields.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from service.records.fields import RECORD_TITLES, Field, shown_fields
from service.records.options import RecordOptions
from service.records.speech import Paragraph as Speech
from service.records.speech import speeches
from service.records.templates_fill import fill_template
from transcriber.transcript import Transcript

# Word on Windows has ＭＳ 明朝 / ＭＳ ゴシック; LibreOffice and other systems resolve these names
# through their substitution tables (IPA明朝/IPAゴシック, Noto Serif/Sans CJK JP).
MINCHO = "ＭＳ 明朝"
GOTHIC = "ＭＳ ゴシック"
BODY_SIZE = Pt(10.5)  # 10.5 pt: the size of a Japanese official document's body text
TITLES = RECORD_TITLES
BODY_HEADINGS = {"meeting": "議事の経過", "interview": "面談の経過", "negotiation": "交渉の経過", "phone": "通話の内容"}
PUBLICATION_MARK = "公開用"
PUBLICATION_FOOTER = "公開用の写し（個人情報等は■で伏せています）"
IDEOGRAPHIC_SPACE = "\u3000"


def set_fonts(run_or_style: Run | ParagraphStyle, family: str) -> None:
    """The same family for Latin and East Asian text (w:rFonts ascii, hAnsi and eastAsia)."""
    run_or_style.font.name = family
    properties = run_or_style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), family)
    fonts.set(qn("w:hint"), "eastAsia")


def _japanese(style: ParagraphStyle) -> None:
    properties = style.element.get_or_add_rPr()
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), "ja-JP")
    language.set(qn("w:eastAsia"), "ja-JP")


def _page(document: DocumentObject) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(25)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    section.header_distance, section.footer_distance = Mm(12), Mm(12)


def _styles(document: DocumentObject) -> None:
    normal = document.styles["Normal"]
    assert isinstance(normal, ParagraphStyle)
    set_fonts(normal, MINCHO)
    normal.font.size = BODY_SIZE
    _japanese(normal)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15
    for name, size in (("Heading 1", Pt(16)), ("Heading 2", Pt(12))):
        heading = document.styles[name]
        assert isinstance(heading, ParagraphStyle)
        set_fonts(heading, GOTHIC)
        heading.font.size = size
        heading.font.bold = True
        heading.font.color.rgb = RGBColor(0, 0, 0)
        heading.paragraph_format.space_before = Pt(12 if name == "Heading 2" else 0)
        heading.paragraph_format.space_after = Pt(6)


def _run(paragraph: Paragraph, text: str, family: str = MINCHO, *, size: Pt | None = None, bold: bool = False) -> Run:
    run = paragraph.add_run(text)
    set_fonts(run, family)
    run.font.size = size or BODY_SIZE
    run.bold = True if bold else None
    return run


def _field_char(paragraph: Paragraph, kind: str) -> None:
    mark = OxmlElement("w:fldChar")
    mark.set(qn("w:fldCharType"), kind)
    _run(paragraph, "")._r.append(mark)


def _page_field(paragraph: Paragraph) -> None:
    """「- 1 -」: a PAGE field between dashes (Word and LibreOffice put in each page's number)."""
    _run(paragraph, "- ")
    _field_char(paragraph, "begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    _run(paragraph, "")._r.append(instruction)
    _field_char(paragraph, "separate")
    _run(paragraph, "1")
    _field_char(paragraph, "end")
    _run(paragraph, " -")


def _header_footer(document: DocumentObject, options: RecordOptions) -> None:
    section = document.sections[0]
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_field(footer)
    if options.publication:
        mark = section.header.paragraphs[0]
        mark.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(mark, f"【{PUBLICATION_MARK}】", GOTHIC, bold=True)
        line = section.footer.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(line, PUBLICATION_FOOTER, size=Pt(9))


def _cell_text(cell_paragraph: Paragraph, text: str, family: str = MINCHO) -> None:
    lines = text.splitlines() or [""]
    for number, line in enumerate(lines):
        run = _run(cell_paragraph, line, family)
        if number < len(lines) - 1:
            run.add_break()


def _distribute(paragraph: Paragraph) -> None:
    """均等割り付け: labels fill their cell's width, as on the city's forms."""
    properties = paragraph._p.get_or_add_pPr()
    alignment = OxmlElement("w:jc")
    alignment.set(qn("w:val"), "distribute")
    properties.append(alignment)


def field_values(kind: str, header: dict[str, str]) -> list[tuple[Field, str]]:
    """The header rows as the record shows them (会議録: 閉会 joins 日時 as 「… 開会 ～ 11:30 閉会」)."""
    rows = []
    for field in shown_fields(kind, header):
        value = str(header.get(field.key, "") or "")
        if kind == "meeting" and field.key == "closed_at":
            continue
        if kind == "meeting" and field.key == "held_at" and header.get("closed_at", "").strip():
            value = f"{value} 開会 ～ {header['closed_at'].strip()} 閉会" if value else f"{header['closed_at']} 閉会"
        rows.append((field, value))
    return rows


def _header_table(document: DocumentObject, kind: str, header: dict[str, str]) -> None:
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # a narrow label column, as on the city's forms (Word and LibreOffice read the grid)
    widths = (Mm(36), Mm(124))  # 160 mm: the text width between the margins
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for field, value in field_values(kind, header):
        row = table.add_row()
        label, cell = row.cells
        label.width, cell.width = widths
        _cell_text(label.paragraphs[0], field.label, GOTHIC)
        if len(field.label) <= 5:  # a longer label (合意事項・継続事項) reads better left-aligned
            _distribute(label.paragraphs[0])
        _cell_text(cell.paragraphs[0], value)


def speech_paragraph(document: DocumentObject, speech: Speech, options: RecordOptions) -> Paragraph:
    """「○議長　それでは…」; lines after the first start one character in, under the name."""
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.left_indent = BODY_SIZE
    paragraph.paragraph_format.first_line_indent = -BODY_SIZE
    paragraph.paragraph_format.space_after = Pt(4)
    _run(paragraph, f"○{speech.name}{IDEOGRAPHIC_SPACE}")
    if options.timestamps:
        stamp = _run(paragraph, f"[{speech.clock}]{IDEOGRAPHIC_SPACE}", size=Pt(8))
        stamp.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    _run(paragraph, speech.text)
    return paragraph


def record_docx(
    header: dict[str, str],
    transcript: Transcript,
    kind: str,
    options: RecordOptions | None = None,
    template: Path | None = None,
) -> bytes:
    """The record as .docx bytes: the built-in layout, or ``template`` with its placeholders filled."""
    options = options or RecordOptions()
    said = speeches(transcript)
    if template is not None and template.is_file():
        document = fill_template(Document(str(template)), kind, field_values(kind, header), said, options)
    else:
        document = Document()
        _page(document)
        _styles(document)
        _header_footer(document, options)
        document.add_heading(TITLES.get(kind, "記録"), level=1).alignment = WD_ALIGN_PARAGRAPH.CENTER
        _header_table(document, kind, header)
        document.add_heading(BODY_HEADINGS.get(kind, "記録"), level=2)
        for speech in said:
            speech_paragraph(document, speech, options)
        closing = document.add_paragraph()
        closing.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        closing.paragraph_format.space_before = Pt(12)
        _run(closing, "以上")
    # The document's title property (Word: ファイル → 情報) holds at most 255 characters.
    document.core_properties.title = (header.get("title", "") or TITLES.get(kind, "記録"))[:255]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()

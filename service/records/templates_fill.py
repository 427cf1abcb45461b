"""Filling an administrator's Word template (docs/exports.md).

The template keeps its styles, page setup, letterhead, header and footer. What it receives:
- header fields: a content control (Word: 開発 → コンテンツ コントロール) whose tag is the field's
  key or label (``title`` or 会議名), or a placeholder ``{{title}}`` / ``{{会議名}}`` in any paragraph,
  table cell, header or footer;
- ``{{種類}}`` / ``{{kind}}``: the record's name (会議録 …); ``{{公開用}}`` / ``{{publication}}``: the
  publication mark (empty in the ordinary record);
- the utterances: where a paragraph holds ``{{本文}}`` / ``{{body}}`` (or a content control tagged so),
  each in a paragraph of that paragraph's style; else at the end, in the style 「発言」 if the
  template has one, else 標準. A template without any field gets the header table before them.
A publication copy is always marked 【公開用】 in the header and the footer, even where the template
does not ask for it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from docx.document import Document as DocumentObject
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from service.records.fields import RECORD_TITLES, Field
from service.records.speech import Paragraph as Speech

if TYPE_CHECKING:
    from service.records.options import RecordOptions

BODY_NAMES = ("本文", "body")
KIND_NAMES = ("種類", "kind")
MARK_NAMES = ("公開用", "publication")
SPEECH_STYLE = "発言"
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
TITLES = RECORD_TITLES


def _parts(document: DocumentObject) -> Iterator[Any]:
    """The XML roots that may hold placeholders: the body, then every header and footer."""
    yield document.element.body
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            if not part.is_linked_to_previous:
                yield part._element


def _set_text(texts: list[Any], value: str) -> None:
    """Put ``value`` in the first w:t (line breaks as w:br), empty the others."""
    first, *rest = texts
    lines = value.split("\n")
    first.text = lines[0]
    first.set(qn("xml:space"), "preserve")
    anchor = first
    for line in lines[1:]:
        brk = OxmlElement("w:br")
        anchor.addnext(brk)
        text = OxmlElement("w:t")
        text.set(qn("xml:space"), "preserve")
        text.text = line
        brk.addnext(text)
        anchor = text
    for other in rest:
        other.text = ""


def _replace_in_paragraph(p: Any, values: dict[str, str]) -> bool:
    texts = p.findall(".//" + qn("w:t"))
    if not texts:
        return False
    joined = "".join(t.text or "" for t in texts)
    if "{{" not in joined:
        return False
    changed = False
    for t in texts:  # placeholders inside one run keep that run's formatting
        if t.text and "{{" in t.text:
            new = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), t.text)
            if new != t.text:
                if "\n" in new:
                    _set_text([t], new)
                else:
                    t.text = new
                changed = True
    joined = "".join(t.text or "" for t in p.findall(".//" + qn("w:t")))
    if _PLACEHOLDER.search(joined) and any(m.group(1) in values for m in _PLACEHOLDER.finditer(joined)):
        # Word split the placeholder over runs: the paragraph's text goes into its first run.
        _set_text(p.findall(".//" + qn("w:t")), _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), joined))
        changed = True
    return changed


def _fill_controls(root: Any, values: dict[str, str]) -> tuple[int, Any | None]:
    """Content controls tagged with a field: their text set. Returns (filled, the body control)."""
    filled, body = 0, None
    for control in root.iter(qn("w:sdt")):
        tag = control.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        name = tag.get(qn("w:val")) if tag is not None else None
        if name is None:
            continue
        if name in BODY_NAMES:
            body = control
            continue
        if name not in values:
            continue
        properties = control.find(qn("w:sdtPr"))
        showing = properties.find(qn("w:showingPlcHdr"))
        if showing is not None:
            properties.remove(showing)  # the text is real now, not the grey prompt
        content = control.find(qn("w:sdtContent"))
        texts = content.findall(".//" + qn("w:t")) if content is not None else []
        if not texts and content is not None:
            run = OxmlElement("w:r")
            text = OxmlElement("w:t")
            run.append(text)
            target = content.find(".//" + qn("w:p"))
            (target if target is not None else content).append(run)
            texts = [text]
        if texts:
            _set_text(texts, values[name])
            filled += 1
    return filled, body


def _speech_element(model: Any, speech: Speech, options: RecordOptions) -> Any:
    """A paragraph like ``model`` (its style and spacing) holding one turn."""
    p = OxmlElement("w:p")
    properties = model.find(qn("w:pPr")) if model is not None else None
    if properties is not None:
        p.append(copy.deepcopy(properties))
    stamp = f"[{speech.clock}]\u3000" if options.timestamps else ""
    for text in (f"○{speech.name}\u3000", stamp, speech.text):
        if not text:
            continue
        run = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.set(qn("xml:space"), "preserve")
        t.text = text
        run.append(t)
        p.append(run)
    return p


def _mark(document: DocumentObject, options: RecordOptions) -> None:
    section = document.sections[0]
    top = section.header.add_paragraph()
    top.add_run("【公開用】").bold = True
    section.footer.add_paragraph().add_run("公開用の写し（個人情報等は■で伏せています）")


def fill_template(
    document: DocumentObject,
    kind: str,
    rows: list[tuple[Field, str]],
    said: list[Speech],
    options: RecordOptions,
) -> DocumentObject:
    values: dict[str, str] = {}
    for field, value in rows:
        values[field.key] = values[field.label] = value
    title = TITLES.get(kind, "記録")
    mark = "公開用" if options.publication else ""
    values.update({name: title for name in KIND_NAMES})
    values.update({name: mark for name in MARK_NAMES})
    fields_placed = False
    marked = False
    body_anchor: Any = None
    for root in _parts(document):
        filled, control = _fill_controls(root, values)
        fields_placed = fields_placed or filled > 0
        if control is not None and body_anchor is None:
            body_anchor = control
        for p in list(root.iter(qn("w:p"))):
            joined = "".join(t.text or "" for t in p.findall(".//" + qn("w:t")))
            names = {m.group(1) for m in _PLACEHOLDER.finditer(joined)}
            if names & set(BODY_NAMES) and body_anchor is None:
                body_anchor = p
                continue
            marked = marked or bool(names & set(MARK_NAMES))
            fields_placed = fields_placed or bool(names - set(MARK_NAMES) - set(BODY_NAMES))
            _replace_in_paragraph(p, values)
    if options.publication and not marked:
        _mark(document, options)
    if not fields_placed:
        table = document.add_table(rows=0, cols=2)
        if "Table Grid" in [s.name for s in document.styles]:
            table.style = "Table Grid"
        for field, value in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = field.label, value
    if body_anchor is not None:
        model = body_anchor if body_anchor.tag == qn("w:p") else body_anchor.find(".//" + qn("w:p"))
        for speech in said:
            body_anchor.addprevious(_speech_element(model, speech, options))
        body_anchor.getparent().remove(body_anchor)
    else:
        style = SPEECH_STYLE if SPEECH_STYLE in [s.name for s in document.styles] else None
        for speech in said:
            paragraph: Paragraph = document.add_paragraph(style=style)
            paragraph.add_run(f"○{speech.name}\u3000")
            if options.timestamps:
                paragraph.add_run(f"[{speech.clock}]\u3000")
            paragraph.add_run(speech.text)
    return document

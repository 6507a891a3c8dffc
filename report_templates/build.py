"""Recreate the default support-request template: `python -m report_templates.build`.

Only maintainers need this; support teams edit the .docx in Word instead.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from report_templates import DEFAULT_TEMPLATE


def _bold_first_column(table: Table) -> None:
    for row in table.rows:
        for run in row.cells[0].paragraphs[0].runs:
            run.bold = True


def _no_header_row(table: Table) -> None:
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None:
        look.set(qn("w:firstRow"), "0")
        look.set(qn("w:val"), "0480")


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in when they lay out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _repeat_header(table: Table) -> None:
    """The header row repeats on every page; no row is split across pages."""
    for n, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if n == 0:
            properties.append(OxmlElement("w:tblHeader"))


def _language(doc: DocumentObject, tag: str) -> None:
    """The proofing language of every style (Word then spells "organisation" as intended)."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault"))
    if run_defaults is None:
        run_defaults = OxmlElement("w:rPrDefault")
        defaults.append(run_defaults)
    properties = run_defaults.find(qn("w:rPr"))
    if properties is None:
        properties = OxmlElement("w:rPr")
        run_defaults.append(properties)
    for old in properties.findall(qn("w:lang")):
        properties.remove(old)
    lang = OxmlElement("w:lang")
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attribute), tag)
    properties.append(lang)


def _widths(table: Table, widths: tuple[float, ...]) -> None:
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _thumbnail() -> bytes:
    """This product's thumbnail: a page with the title band and the table the report opens with."""
    width, height = 148, 210
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            colour = (255, 255, 255)
            if 14 <= y < 26 and 12 <= x < 120:
                colour = (0x1F, 0x4E, 0x79)  # the title
            elif 34 <= y < 38 and 12 <= x < 100:
                colour = (0xC0, 0x00, 0x00)  # the sandbox or confidentiality line
            elif 46 <= y < 120 and 12 <= x < 136 and (y - 46) % 8 < 5:
                colour = (0xD9, 0xE2, 0xF3) if x < 50 else (0xBF, 0xBF, 0xBF)
            elif 130 <= y < 196 and 12 <= x < 136 and (y - 130) % 6 < 2:
                colour = (0xA6, 0xA6, 0xA6)
            row += bytes(colour)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def _replace_thumbnail(doc: DocumentObject) -> None:
    package = doc.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rel_id)
    part = Part(PackURI("/docProps/thumbnail.png"), "image/png", _thumbnail(), package)
    package.relate_to(part, RT.THUMBNAIL)


def build(path: Path) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10)
    _language(doc, "en-AU")
    for name in ("Heading 1", "Heading 2", "Title"):
        doc.styles[name].paragraph_format.keep_with_next = True

    header = section.header.paragraphs[0]
    header.text = "{{ organisation }} · {{ kind }} · Wisenet ↔ Xero sync"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    marking = section.header.add_paragraph().add_run("{{ marking }}")
    marking.font.size = Pt(8)
    marking.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    section.header.paragraphs[1].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    footer.text = "Written by diagnose {{ version }} · {{ checked_at }} · Page "
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")

    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{%p if sandbox %}")
    warning = doc.add_paragraph().add_run(
        "SANDBOX DATA: this document was made from the built-in sample tenant, "
        "not from a real organisation."
    )
    warning.bold = True
    warning.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if redaction %}")
    doc.add_paragraph().add_run("{{ redaction }}").italic = True
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("Summary", style="Heading 1")
    doc.add_paragraph("{{ summary }}")
    doc.add_paragraph("{%p if request %}")
    doc.add_paragraph("Our request", style="Heading 1")
    doc.add_paragraph("What we need from Wisenet support:")
    doc.add_paragraph("{%p for ask in request %}")
    doc.add_paragraph("{{ ask }}", style="List Number")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph(
        "Everything below was read from Wisenet and Xero by diagnose when the checks ran; the "
        "calls are listed in the appendix with their Xero correlation ids."
    )
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("Requester and organisation", style="Heading 2")
    people = doc.add_table(rows=3, cols=2)
    people.style = "Light Grid Accent 1"
    people.rows[0].cells[0].text = "{%tr for r in requester %}"
    people.rows[1].cells[0].text = "{{ r.label }}"
    people.rows[1].cells[1].text = "{{ r.value }}"
    people.rows[2].cells[0].text = "{%tr endfor %}"
    _bold_first_column(people)
    _no_header_row(people)
    _widths(people, (5.0, 12.0))
    for row in people.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))

    doc.add_paragraph("Failing checks", style="Heading 2")
    doc.add_paragraph("{%p if failing %}")
    failing = doc.add_table(rows=4, cols=4)
    failing.style = "Light Grid Accent 1"
    header_cells = ("", "What is wrong", "Check", "Record")
    row_cells = ("{{ f.status }}", "{{ f.message }}", "{{ f.id }}", "{{ f.record }}")
    for cell, text in zip(failing.rows[0].cells, header_cells, strict=True):
        cell.text = text
    failing.rows[1].cells[0].text = "{%tr for f in failing %}"
    for cell, text in zip(failing.rows[2].cells, row_cells, strict=True):
        cell.text = text
    failing.rows[3].cells[0].text = "{%tr endfor %}"
    _widths(failing, (0.7, 6.3, 5.1, 4.9))
    for cell in failing._cells:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(9)
    _repeat_header(failing)
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("No check failed.")
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("{{ body }}")

    props = doc.core_properties
    props.title = "Support request (template)"
    props.author = "diagnose"
    props.language = "en-AU"
    props.comments = "Default template of diagnose: restyle freely, keep the placeholders."
    _replace_thumbnail(doc)
    doc.save(str(path))


if __name__ == "__main__":
    target = Path(__file__).with_name(DEFAULT_TEMPLATE)
    build(target)
    print(f"wrote {target}")

"""Recreate the default support-request template: `python -m report_templates.build`.

Only maintainers need this; support teams edit the .docx in Word instead.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from report_templates import DEFAULT_TEMPLATE

KEY_VALUES = (
    ("Organisation", "{{ organisation }}"),
    ("Subject", "{{ headline }}"),
    ("Checked", "{{ checked_at }}"),
    ("Tool", "diagnose {{ version }}"),
    ("Data", "{{ mode }}"),
    ("Verdict", "{{ verdict }}"),
)


def _bold_first_column(table: Table) -> None:
    for row in table.rows:
        for run in row.cells[0].paragraphs[0].runs:
            run.bold = True


def _no_header_row(table: Table) -> None:
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None:
        look.set(qn("w:firstRow"), "0")
        look.set(qn("w:val"), "0480")


def build(path: Path) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10)

    header = section.header.paragraphs[0]
    header.text = "{{ organisation }} · Support request · Wisenet ↔ Xero sync"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    section.footer.paragraphs[0].text = "Written by diagnose {{ version }} · {{ checked_at }}"

    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{%p if sandbox %}")
    warning = doc.add_paragraph().add_run(
        "SANDBOX DATA: this document was made from the built-in sample tenant, "
        "not from a real organisation."
    )
    warning.bold = True
    warning.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    doc.add_paragraph("{%p endif %}")

    summary = doc.add_table(rows=len(KEY_VALUES), cols=2)
    summary.style = "Light Grid Accent 1"
    for row, (label, value) in zip(summary.rows, KEY_VALUES, strict=True):
        row.cells[0].text, row.cells[1].text = label, value
    _bold_first_column(summary)
    _no_header_row(summary)

    doc.add_paragraph("{%p if redaction %}")
    doc.add_paragraph().add_run("{{ redaction }}").italic = True
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("Failing checks", style="Heading 2")
    doc.add_paragraph("{%p if failing %}")
    failing = doc.add_table(rows=4, cols=4)
    failing.style = "Light Grid Accent 1"
    header_cells = ("", "Check", "What is wrong", "Already tried")
    row_cells = ("{{ f.status }}", "{{ f.id }}", "{{ f.message }}", "{{ f.tried }}")
    for cell, text in zip(failing.rows[0].cells, header_cells, strict=True):
        cell.text = text
    failing.rows[1].cells[0].text = "{%tr for f in failing %}"
    for cell, text in zip(failing.rows[2].cells, row_cells, strict=True):
        cell.text = text
    failing.rows[3].cells[0].text = "{%tr endfor %}"
    failing.autofit = False
    for column, width in zip(failing.columns, (0.8, 4.2, 7.8, 4.2), strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("No check failed.")
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("{{ body }}")

    props = doc.core_properties
    props.title = "Support request (template)"
    props.author = "diagnose"
    props.comments = "Default template of diagnose: restyle freely, keep the placeholders."
    doc.save(str(path))


if __name__ == "__main__":
    target = Path(__file__).with_name(DEFAULT_TEMPLATE)
    build(target)
    print(f"wrote {target}")

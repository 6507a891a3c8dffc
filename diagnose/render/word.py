"""The Word renderer: a `Report` into a .docx, through a template a support team can restyle.

The only module of ours that imports docxtpl and python-docx. The template's Jinja placeholders
are filled with autoescaping on (so `A & B <c>` stays exactly that); the evidence sections are
then written with python-docx where the template holds `{{ body }}`, in the template's own
styles. The file is written next to its final name and renamed into place.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from jinja2 import TemplateError

from diagnose import __version__
from diagnose.errors import TemplateFileError
from diagnose.model import Status
from diagnose.paths import write_output
from diagnose.report import ChainCell, Report, Table
from diagnose.textsafe import xml_safe
from report_templates import default_template

BODY_MARKER = "\u2063diagnose-body\u2063"
SHADES = {
    Status.PASS: "E2F0D9",
    Status.WARN: "FFF2CC",
    Status.FAIL: "F8CBAD",
    Status.ERROR: "E4C1F9",
    None: "EDEDED",
}
USABLE_WIDTH_CM = 17.0  # A4 less 2 cm margins


class _Writer:
    """Inserts paragraphs and tables before the anchor paragraph, in the document's styles."""

    def __init__(self, doc: DocumentObject, anchor: Paragraph) -> None:
        self.doc = doc
        self.anchor = anchor
        self.styles = {s.name for s in doc.styles}
        self.table_style = next(
            (s for s in ("Light Grid Accent 1", "Table Grid") if s in self.styles), None
        )
        # looked up once: python-docx finds a style by its name anew each time it is set
        self.table_style_id = doc.styles[self.table_style].style_id if self.table_style else None

    def paragraph(self, text: str, style: str | None = None, *, bold: bool = False) -> Paragraph:
        paragraph = self.anchor.insert_paragraph_before(
            "", style=style if style in self.styles else None
        )
        _linked(paragraph, xml_safe(text), bold=bold)
        return paragraph

    def heading(self, text: str, level: int) -> None:
        heading = self.paragraph(
            text, f"Heading {level}", bold=f"Heading {level}" not in self.styles
        )
        heading.paragraph_format.keep_with_next = True  # never alone at the foot of a page

    def _new_table(
        self,
        rows: int,
        cols: int,
        *,
        header: bool,
        first_column: bool,
        widths: Sequence[float] = (),
    ) -> DocxTable:
        table: DocxTable = self.doc.add_table(rows=rows, cols=cols)
        if self.table_style_id:
            table._tbl.tblPr.style = self.table_style_id
        _look(table, header=header, first_column=first_column)
        for n, row in enumerate(table.rows):  # rows kept whole; the header row on every page
            properties = row._tr.get_or_add_trPr()
            properties.append(OxmlElement("w:cantSplit"))
            if header and n == 0:
                properties.append(OxmlElement("w:tblHeader"))
        if len(widths) == cols:
            table.autofit = False
            scale = USABLE_WIDTH_CM / sum(widths)
            sizes = [Cm(width * scale) for width in widths]
            for column, size in zip(table.columns, sizes, strict=True):
                column.width = size  # the grid, which LibreOffice reads
            for tr in table._tbl.tr_lst:  # the cells, which Word reads (no merged cells here)
                for tc, size in zip(tr.tc_lst, sizes, strict=True):
                    tc.width = size
        self.anchor._p.addprevious(table._tbl)
        return table

    def table(self, data: Table) -> None:
        if data.title:
            self.paragraph(data.title, bold=True).paragraph_format.keep_with_next = True
        header = 0 if data.key_value else 1
        width = (
            max(len(data.columns), *(len(r) for r in data.rows)) if data.rows else len(data.columns)
        )
        table = self._new_table(
            len(data.rows) + header,
            width,
            header=bool(header),
            first_column=data.key_value,
            widths=data.widths or _fitted(data, width),
        )
        size = Pt(7.5) if data.small else None
        rows = iter(table.rows)
        if header:
            for cell, text in zip(next(rows).cells, data.columns, strict=False):
                cell.text = ""
                run = cell.paragraphs[0].add_run(xml_safe(text))
                run.bold, run.font.size = True, size
        for row, values in zip(rows, data.rows, strict=False):
            for i, (cell, text) in enumerate(zip(row.cells, values, strict=False)):
                paragraph = cell.paragraphs[0]
                # a row stays with the next (a new cell's paragraph has no properties yet)
                paragraph._p.get_or_add_pPr().append(OxmlElement("w:keepNext"))
                _linked(
                    paragraph, xml_safe(text), bold=data.key_value and i == 0, size=size, cell=True
                )
        self.gap()

    def gap(self) -> None:
        """A small space after a table (a paragraph must separate two tables)."""
        space = self.paragraph("")
        space.paragraph_format.space_after = Pt(0)
        space.paragraph_format.keep_with_next = False

    def chain(self, rows: list[list[ChainCell]]) -> None:
        """Boxes for the four stages with arrows between them, one row per invoice; each box
        shaded by its status, the first broken one saying "stops here", broken arrows into
        every broken stage."""
        if not rows:
            return
        stages = len(rows[0])
        widths = [w for _ in range(stages) for w in (4.0, 0.7)][:-1]
        table = self._new_table(
            len(rows) + 1, stages * 2 - 1, header=True, first_column=False, widths=widths
        )
        all_rows = list(table.rows)
        for i, cell in enumerate(all_rows[0].cells):
            text = rows[0][i // 2].stage if i % 2 == 0 else ""
            cell.paragraphs[0].add_run(text).bold = True
        for row, cells in zip(all_rows[1:], rows, strict=True):
            for i, cell in enumerate(row.cells):
                stage = cells[i // 2]
                paragraph = cell.paragraphs[0]
                if i % 2 == 0:
                    if stage.breaks_here:
                        paragraph.add_run("STOPS HERE\n").bold = True
                    glyph = stage.status.glyph if stage.status else "–"
                    paragraph.add_run(xml_safe(f"{glyph} {stage.note}"))
                    _shade(cell, SHADES[stage.status])
                else:  # the arrow into a broken stage is broken
                    following = cells[i // 2 + 1]
                    broken = following.status in (Status.FAIL, Status.ERROR)
                    paragraph.add_run("✗" if broken else "→").bold = broken
        self.gap()


def _fitted(data: Table, columns: int) -> list[float]:
    """Column widths from the content, when the report gave none: each column at least as wide
    as its longest word (an ID or a status never breaks), the rest shared by how much text each
    column holds."""
    per_char = 0.17 if data.small else 0.22  # cm a character, DejaVu being wider than Calibri
    rows = [list(data.columns), *data.rows] if not data.key_value else list(data.rows)
    need, want = [0.6] * columns, [0.6] * columns
    for row in rows:
        for i, text in enumerate(row[:columns]):
            words = str(text).split() or [""]
            need[i] = max(need[i], max(len(w) for w in words) * per_char + 0.4)
            want[i] = max(want[i], min(len(str(text)), 60) * per_char + 0.4)
    spare = USABLE_WIDTH_CM - sum(need)
    extra = [max(w - n, 0.0) for w, n in zip(want, need, strict=True)]
    if spare <= 0 or not sum(extra):
        return need
    share = min(1.0, spare / sum(extra))
    return [n + e * share for n, e in zip(need, extra, strict=True)]


XERO_LINK = re.compile(r"https://go\.xero\.com/[^\s<>\"]+")


def _linked(
    paragraph: Paragraph,
    text: str,
    *,
    bold: bool = False,
    size: Pt | None = None,
    cell: bool = False,
) -> None:
    """`text` as runs, each Xero link a real hyperlink. A table cell that is only a link reads
    "Open in Xero" (a long address would wrap mid-word); in a sentence the address is shown."""
    at = 0
    for match in XERO_LINK.finditer(text):
        _run(paragraph, text[at : match.start()], bold, size)
        shown = "Open in Xero" if cell and match.group() == text.strip() else match.group()
        _hyperlink(paragraph, match.group(), shown, size)
        at = match.end()
    _run(paragraph, text[at:], bold, size)


def _run(paragraph: Paragraph, text: str, bold: bool, size: Pt | None) -> None:
    """A run of `text` (a line break for each newline, a tab for each tab), bold and sized as
    asked; written as its XML directly: python-docx's run API costs most of a long document."""
    p = paragraph._p
    if not text and p.r_lst:
        return
    run = OxmlElement("w:r")
    if bold or size is not None:
        properties = OxmlElement("w:rPr")
        if bold:
            properties.append(OxmlElement("w:b"))
        if size is not None:
            half_points = OxmlElement("w:sz")
            half_points.set(qn("w:val"), str(int(size.pt * 2)))
            properties.append(half_points)
        run.append(properties)
    for n, line in enumerate(text.split("\n")):
        if n:
            run.append(OxmlElement("w:br"))
        for m, piece in enumerate(line.split("\t")):
            if m:
                run.append(OxmlElement("w:tab"))
            if piece:
                words = OxmlElement("w:t")
                words.text = piece
                words.set(qn("xml:space"), "preserve")
                run.append(words)
    p.append(run)


def _hyperlink(paragraph: Paragraph, url: str, shown: str, size: Pt | None) -> None:
    rel_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    properties.extend([colour, underline])
    if size is not None:
        half_points = OxmlElement("w:sz")
        half_points.set(qn("w:val"), str(int(size.pt * 2)))
        properties.append(half_points)
    run.append(properties)
    words = OxmlElement("w:t")
    words.text = shown
    words.set(qn("xml:space"), "preserve")
    run.append(words)
    link.append(run)
    paragraph._p.append(link)


def _look(table: DocxTable, *, header: bool, first_column: bool) -> None:
    """Whether the table style's header-row and first-column formatting apply."""
    properties = table._tbl.tblPr
    look = properties.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        properties.append(look)
    look.set(qn("w:firstRow"), "1" if header else "0")
    look.set(qn("w:firstColumn"), "1" if first_column else "0")
    look.set(qn("w:lastRow"), "0")
    look.set(qn("w:lastColumn"), "0")
    look.set(qn("w:noVBand"), "1")
    look.set(qn("w:val"), f"{(0x20 if header else 0) | (0x80 if first_column else 0) | 0x400:04X}")


def _shade(cell: Any, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shade = OxmlElement("w:shd")
    shade.set(qn("w:val"), "clear")
    shade.set(qn("w:color"), "auto")
    shade.set(qn("w:fill"), fill)
    properties.append(shade)


def _load(template: Path) -> DocxTemplate:
    if not template.is_file():
        raise TemplateFileError(f"Word template {template} does not exist")
    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TemplateFileError(f"Word template {template} is not a .docx file ({exc})") from None
    return tpl


def _body_anchor(doc: DocumentObject) -> Paragraph:
    for paragraph in doc.paragraphs:
        if BODY_MARKER in paragraph.text:
            for run in paragraph.runs:
                run.text = run.text.replace(BODY_MARKER, "")
            return paragraph
    return doc.add_paragraph()  # a template without {{ body }}: the evidence goes at the end


def write_report(report: Report, path: Path, *, template: Path | None = None) -> Path:
    """Write the document to `path` and return it."""
    source = template or default_template()
    tpl = _load(source)
    try:
        tpl.render({**report.context(), "body": BODY_MARKER}, autoescape=True)
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        line = f" (line {lineno})" if lineno else ""
        raise TemplateFileError(f"Word template {source}: {exc}{line}") from None
    doc: DocumentObject = tpl.docx
    anchor = _body_anchor(doc)
    writer = _Writer(doc, anchor)
    for block in report.blocks:
        writer.heading(block.heading, block.level)
        for item in block.items:
            if isinstance(item, Table):
                writer.table(item)
            else:
                writer.paragraph(item)
        if block.chain:
            writer.chain(report.chain)
    if not anchor.text.strip():
        anchor._p.getparent().remove(anchor._p)
    _last_paragraph_tiny(doc)
    _set_properties(doc, report)
    built = io.BytesIO()  # built whole in memory: a full disk never meets a half-written zip
    doc.save(built)
    write_output(path, built.getvalue())  # never a device or a folder; a symlink's own file
    return path


def _last_paragraph_tiny(doc: DocumentObject) -> None:
    """The space after the last table must not start a page of its own."""
    last = doc.paragraphs[-1] if doc.paragraphs else None
    if last is not None and not last.text.strip():
        last.paragraph_format.space_before = Pt(0)
        last.paragraph_format.space_after = Pt(0)
        last.paragraph_format.line_spacing = Pt(1)
        for run in last.runs:
            run.font.size = Pt(1)


APP_PROPERTIES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>diagnose</Application>"
    "<DocSecurity>0</DocSecurity><Company>{company}</Company></Properties>"
)


def _set_app_properties(doc: DocumentObject, report: Report) -> None:
    """This product as the application, not the word processor the template came from; no
    page count (Word counts the pages when it opens the file)."""
    for part in doc.part.package.iter_parts():
        if part.partname == "/docProps/app.xml":
            text = APP_PROPERTIES.format(company=escape(report.organisation))
            part._blob = text.encode("utf-8")


def _set_properties(doc: DocumentObject, report: Report) -> None:
    _set_app_properties(doc, report)
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    author = report.author or "diagnose"
    props = doc.core_properties
    props.title = report.title
    props.subject = report.core_subject
    props.author = author
    props.last_modified_by = author
    props.created = now
    props.modified = now
    props.revision = 1
    props.keywords = f"Wisenet, Xero, sync, {report.kind.lower()}"
    props.category = report.kind
    props.comments = f"Written by diagnose {__version__}"

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
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Pt
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
        self.part = anchor.part  # what hyperlinks are related to
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
        _linked(paragraph, text, bold=bold)
        return paragraph

    def heading(self, text: str, level: int) -> None:
        heading = self.paragraph(
            text, f"Heading {level}", bold=f"Heading {level}" not in self.styles
        )
        heading.paragraph_format.keep_with_next = True  # never alone at the foot of a page

    def _add_table(
        self,
        rows: Sequence[Sequence[_Cell]],
        widths: Sequence[float],
        *,
        header: bool,
        first_column: bool,
    ) -> None:
        """A table written as its XML at once (python-docx's table API, a call per cell, spent
        most of a long document's time): rows kept whole, the header row repeated on every
        page, fixed column widths on the grid (which LibreOffice reads) and on each cell (which
        Word reads). Each row is a list of cells' paragraph contents (`_Cell`)."""
        scale = USABLE_WIDTH_CM / sum(widths)
        twips = [Cm(width * scale).twips for width in widths]
        style_id = escape(self.table_style_id or "", {'"': "&quot;"})  # a template's own name
        style = f'<w:tblStyle w:val="{style_id}"/>' if style_id else ""
        look = (0x20 if header else 0) | (0x80 if first_column else 0) | 0x400
        parts = [
            f"<w:tbl {nsdecls('w', 'r')}><w:tblPr>{style}"
            '<w:tblW w:type="auto" w:w="0"/><w:tblLayout w:type="fixed"/>'
            f'<w:tblLook w:firstColumn="{int(first_column)}" w:firstRow="{int(header)}" '
            'w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" '
            f'w:val="{look:04X}"/></w:tblPr><w:tblGrid>',
            *(f'<w:gridCol w:w="{w}"/>' for w in twips),
            "</w:tblGrid>",
        ]
        for n, cells in enumerate(rows):
            repeat = "<w:tblHeader/>" if header and n == 0 else ""
            parts.append(f"<w:tr><w:trPr><w:cantSplit/>{repeat}</w:trPr>")
            for i, width in enumerate(twips):
                content, fill = cells[i] if i < len(cells) else ("", None)
                shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
                parts.append(
                    f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/>{shade}</w:tcPr>'
                    f"<w:p>{content}</w:p></w:tc>"
                )
            parts.append("</w:tr>")
        parts.append("</w:tbl>")
        self.anchor._p.addprevious(parse_xml("".join(parts)))

    def table(self, data: Table) -> None:
        if data.title:
            self.paragraph(data.title, bold=True).paragraph_format.keep_with_next = True
        width = (
            max(len(data.columns), *(len(r) for r in data.rows)) if data.rows else len(data.columns)
        )
        size = 7.5 if data.small else None
        rows: list[list[_Cell]] = []
        if not data.key_value:
            rows.append(
                [(_runs(self.part, text, True, size, alone=True), None) for text in data.columns]
            )
        for values in data.rows:
            rows.append(
                [
                    # a row stays with the next
                    (
                        KEEP_NEXT
                        + _runs(
                            self.part, text, data.key_value and i == 0, size, cell=True, alone=True
                        ),
                        None,
                    )
                    for i, text in enumerate(values)
                ]
            )
        self._add_table(
            rows,
            data.widths if len(data.widths) == width else _fitted(data, width),
            header=not data.key_value,
            first_column=data.key_value,
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
        head: list[_Cell] = [
            (
                _runs(
                    self.part, rows[0][i // 2].stage if i % 2 == 0 else "", True, None, alone=True
                ),
                None,
            )
            for i in range(stages * 2 - 1)
        ]
        table: list[list[_Cell]] = [head]
        for cells in rows:
            line: list[_Cell] = []
            for i in range(stages * 2 - 1):
                stage = cells[i // 2]
                if i % 2 == 0:
                    glyph = stage.status.glyph if stage.status else "–"
                    stops = (
                        _runs(self.part, "STOPS HERE\n", True, None) if stage.breaks_here else ""
                    )
                    text = _runs(self.part, f"{glyph} {stage.note}", False, None)
                    line.append((stops + text, SHADES[stage.status]))
                else:  # the arrow into a broken stage is broken
                    broken = cells[i // 2 + 1].status in (Status.FAIL, Status.ERROR)
                    line.append((_runs(self.part, "✗" if broken else "→", broken, None), None))
            table.append(line)
        self._add_table(table, widths, header=True, first_column=False)
        self.gap()


_Cell = tuple[str, str | None]  # a cell's paragraph content (its XML) and its shade, if any
KEEP_NEXT = "<w:pPr><w:keepNext/></w:pPr>"


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


def _linked(paragraph: Paragraph, text: str, *, bold: bool = False) -> None:
    """`text` as runs of `paragraph`, each Xero link a real hyperlink."""
    runs = _runs(paragraph.part, text, bold, None, alone=True)
    paragraph._p.extend(parse_xml(f"<w:p {nsdecls('w', 'r')}>{runs}</w:p>"))


def _runs(
    part: Any,
    text: str,
    bold: bool,
    size: float | None,
    *,
    cell: bool = False,
    alone: bool = False,
) -> str:
    """`text` as the XML of runs, each Xero link a real hyperlink (related to `part`). A table
    `cell` that is only a link reads "Open in Xero" (a long address would wrap mid-word); in a
    sentence the address is shown. `alone`: the paragraph has nothing else, so an empty text is
    still a run (carrying the size)."""
    text = xml_safe(text)
    pieces: list[str] = []
    at = 0
    for match in XERO_LINK.finditer(text):
        pieces.append(_run(text[at : match.start()], bold, size, empty=alone and not pieces))
        shown = "Open in Xero" if cell and match.group() == text.strip() else match.group()
        rel_id = part.relate_to(match.group(), RT.HYPERLINK, is_external=True)
        properties = '<w:color w:val="0563C1"/><w:u w:val="single"/>' + _size(size)
        pieces.append(
            f'<w:hyperlink r:id="{rel_id}"><w:r><w:rPr>{properties}</w:rPr>'
            f'<w:t xml:space="preserve">{escape(shown)}</w:t></w:r></w:hyperlink>'
        )
        at = match.end()
    pieces.append(_run(text[at:], bold, size, empty=alone and not pieces))
    return "".join(pieces)


def _size(size: float | None) -> str:
    return f'<w:sz w:val="{int(size * 2)}"/>' if size is not None else ""


def _run(text: str, bold: bool, size: float | None, *, empty: bool = False) -> str:
    """A run of `text` (a line break for each newline, a tab for each tab), bold and sized as
    asked; "" for no text, unless `empty` runs are wanted."""
    if not text and not empty:
        return ""
    properties = ("<w:b/>" if bold else "") + _size(size)
    inner: list[str] = [f"<w:rPr>{properties}</w:rPr>"] if properties else []
    for n, line in enumerate(text.split("\n")):
        if n:
            inner.append("<w:br/>")
        for m, piece in enumerate(line.split("\t")):
            if m:
                inner.append("<w:tab/>")
            if piece:
                inner.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{''.join(inner)}</w:r>"


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

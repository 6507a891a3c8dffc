"""The Word support request, read back from the .docx as support would read it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from docx import Document
from test_demo_tenant import INVOICES, LEARNERS

from diagnose.cli import main

HEADINGS = [
    "Summary",
    "Requester and organisation",
    "Failing checks",
    "What is wrong",
    "Timeline",
    "Evidence",
    "Xero contact search",
    "Xero contact",
    "Xero invoice(s)",
    "Wisenet learner",
    "Wisenet Xero Invoices tab",
    "Event alerts",
    "Sync chain",
    "Appendix",
    "API calls",
]
SECRETS = ("sandbox-wisenet-key", "sandbox-xero-token")


def run_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["diagnose", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        sys.argv = old
    return code, out.getvalue(), err.getvalue()


def text_of(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def xml_of(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", "replace")
            for name in archive.namelist()
            if name.endswith((".xml", ".rels"))
        )


def headings(path: Path) -> list[str]:
    doc = Document(str(path))
    return [p.text for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2")]


SUBJECTS = [("learner", lid) for lid, _, _ in LEARNERS] + [("invoice", n) for n, _ in INVOICES]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, Any]]:
    """A report and the JSON diagnosis for every demo learner and invoice."""
    folder = tmp_path_factory.mktemp("reports")
    os.environ["DIAGNOSE_STAFF_NAME"] = "Sam Support"
    made = {}
    try:
        for kind, ref in SUBJECTS:
            path = folder / f"{kind}-{ref}.docx"
            code, out, err = run_main(kind, ref, "--json", "--report", str(path))
            assert code in (0, 1), err
            assert f"support request written to {path}" in err
            made[(kind, ref)] = (path, json.loads(out))
    finally:
        del os.environ["DIAGNOSE_STAFF_NAME"]
    return made


@pytest.mark.parametrize(("kind", "ref"), SUBJECTS)
def test_every_demo_subject_gets_a_complete_document(
    documents: dict[tuple[str, str], tuple[Path, Any]], kind: str, ref: str
) -> None:
    path, diagnosis = documents[(kind, ref)]
    found = headings(path)
    main_headings = [h for h in found if h in HEADINGS]
    assert main_headings == [h for h in HEADINGS if h in main_headings]
    assert set(HEADINGS) <= set(found)
    text = text_of(path)
    titled = diagnosis["subject"]["label"] if kind == "learner" else f"invoice {ref}"
    assert text.startswith(f"Support request: {titled}")  # an invoice's, by the invoice
    assert "SANDBOX DATA" in text
    for finding in diagnosis["findings"]:
        if finding["status"] in ("fail", "warn"):
            assert finding["id"] in text
            label = finding["target"]["label"]
            assert f"{finding['id']} ({label})" in text  # its own section
            assert f"Expected: {finding['title']}." in text  # the condition, as such
            assert f"{finding['id']} — {finding['title']}" not in text  # never as a ✗ heading
    for call in diagnosis["calls"]:
        if call["correlation_id"]:
            assert call["correlation_id"] in text
    xml = xml_of(path)
    assert not any(secret in xml for secret in SECRETS)


def test_the_document_holds_the_faq_evidence(
    documents: dict[tuple[str, str], tuple[Path, Any]],
) -> None:
    text = text_of(documents[("learner", "123")][0])
    assert "Jane Citizen | STD0000123 | ARCHIVED | jane.citizen@example.com | Open in Xero" in text
    assert "Contact Code | STD0000123" in text
    assert "STREET | 42 Wallaby Way |  | Sydney | NSW | 2000 | Australia" in text
    assert "MOBILE |  |  | +61400000000" in text
    assert (
        "INV-0042 | ACCREC | AUTHORISED | Jane Citizen | 2026-10-29 | 2026-11-12 | "
        "1,850.00 | 1,850.00" in text
    )
    assert (
        "BSB50420 Diploma of Leadership and Management — instalment | 1.0 | "
        "1,850.00 | 1,850.00 | 200" in text
    )
    assert "Street | 42 Wallaby Way | Sydney | NSW (New South Wales) | 2000 | Australia" in text
    assert "Sync to Xero | not ticked" in text
    assert "Wisenet lists no Xero invoice for this learner." in text
    paid = text_of(documents[("learner", "101")][0])
    assert "INV-0001 | PAID | 1,250.00 | 0.00" in paid  # the Xero Invoices tab
    alerts = text_of(documents[("learner", "107")][0])
    assert "Learner Sync errors | NZCountry unknown | STD0000107 | no" in alerts


def test_the_sync_chain_marks_where_it_stops(
    documents: dict[tuple[str, str], tuple[Path, Any]],
) -> None:
    chain = Document(str(documents[("learner", "113")][0])).tables[-2]
    cells = [cell.text for cell in chain.rows[1].cells]
    assert cells[0].startswith("✓")
    assert cells[2].startswith("✓")
    assert cells[4].startswith("✓")
    assert cells[5] == "✗"
    assert cells[6].startswith("STOPS HERE")
    assert "invoice.in-wisenet" in cells[6]


def test_core_properties_are_set_not_library_defaults(
    documents: dict[tuple[str, str], tuple[Path, Any]],
) -> None:
    props = Document(str(documents[("learner", "123")][0])).core_properties
    assert props.title == "Support request: learner 123 · Jane Citizen · STD0000123"
    assert props.author == "Sam Support"
    assert props.subject.startswith("Wisenet ↔ Xero sync")
    assert props.created is not None
    created = props.created.replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=10)
    assert "python-docx" not in (props.comments or "")


SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(
    SOFFICE is None and not os.environ.get("CI"), reason="LibreOffice is not installed here"
)
def test_libreoffice_opens_every_document(
    documents: dict[tuple[str, str], tuple[Path, Any]], tmp_path: Path
) -> None:
    assert SOFFICE, "CI installs LibreOffice (.ci/run); it is missing"
    paths = [str(path) for path, _ in documents.values()]
    profile = tmp_path / "profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *paths,
        ],
        capture_output=True,
        check=True,
        timeout=300,
    )
    for path in paths:
        pdf = tmp_path / (Path(path).stem + ".pdf")
        assert pdf.exists(), path
        assert pdf.read_bytes().startswith(b"%PDF")
    if PDFTOTEXT is None and not os.environ.get("CI"):
        return  # the pages are read where poppler is installed (CI installs it)
    assert PDFTOTEXT, "CI installs poppler-utils (.ci/run); pdftotext is missing"
    for (kind, ref), (path, diagnosis) in documents.items():
        pages = pages_of(tmp_path / (path.stem + ".pdf"))
        assert "Summary" in pages[0], (kind, ref)
        if any(f["status"] in ("fail", "error") for f in diagnosis["findings"]):
            assert "Our request" in pages[0], (kind, ref)
        assert "Sam Support" in pages[0]
        for number, page in enumerate(pages, 1):
            assert f"Page {number} of {len(pages)}" in page  # the footer's fields, laid out
            body = [line for line in page.splitlines() if line.strip()][3:-1]  # header, footer
            assert sum(len(line) for line in body) >= 400, (kind, ref, number, body)
        assert len(pages) <= 8, (kind, ref, len(pages))


PDFTOTEXT = shutil.which("pdftotext")


def pages_of(pdf: Path) -> list[str]:
    """The text of each page, as LibreOffice laid it out."""
    text = subprocess.run(
        [str(PDFTOTEXT), "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


HOSTILE_FIRST = "Zoë\x0b\x00\x1b[31mA & B <c>\x1b[0m 🎓"
HOSTILE_LAST = "O'Brien\ud800 ]]> </w:t>"


@pytest.fixture
def hostile_tenant(demo_tenant: dict[str, Any], write_tenant: Callable[..., Path]) -> Path:
    learner = next(x for x in demo_tenant["wisenet"]["learners"] if x["LearnerId"] == 123)
    learner["Personal"]["FirstName"] = HOSTILE_FIRST
    learner["Personal"]["LastName"] = "O'Brien ]]> </w:t>"
    path = write_tenant(demo_tenant)
    raw = path.read_text()  # a lone surrogate cannot be UTF-8: write its JSON escape by hand
    path.write_text(raw.replace("O'Brien ]]>", "O'Brien\\ud800 ]]>"))
    return path


def test_hostile_text_gives_a_valid_document_with_the_text_kept(
    hostile_tenant: Path, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    out = tmp_path / "hostile.docx"
    run = cli("learner", "123", "--sandbox", str(hostile_tenant), "--report", str(out))
    assert run.code == 1, run.err
    text = text_of(out)
    assert "ZoëA & B <c> 🎓 O'Brien ]]> </w:t>" in text
    xml = xml_of(out)
    for bad in ("\x0b", "\x00", "\x1b", "[31m", "\ud800"):
        assert bad not in xml
    assert "A &amp; B &lt;c&gt;" in xml
    assert "\x1b" not in run.out  # the terminal is not fed escape sequences either
    if SOFFICE:
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{tmp_path / 'p'}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmp_path),
                str(out),
            ],
            capture_output=True,
            check=True,
            timeout=120,
        )
        assert (tmp_path / "hostile.pdf").exists()


@pytest.mark.parametrize("learner_id", ["123", "108", "109", "116"])
def test_redact_leaves_no_real_name_email_or_phone_anywhere(
    cli: Callable[..., Run], demo_tenant: dict[str, Any], tmp_path: Path, learner_id: str
) -> None:
    learner = next(
        x for x in demo_tenant["wisenet"]["learners"] if str(x["LearnerId"]) == learner_id
    )["Personal"]
    out = tmp_path / "redacted.docx"
    run = cli("learner", learner_id, "--report", str(out), "--redact")
    assert run.code == 1 or run.code == 0
    xml = xml_of(out).casefold()
    street = learner["StreetAddress"]
    secrets = [
        learner["FirstName"],
        learner["LastName"],
        learner["EmailAddresses"]["Email"],
        learner["PhoneNumbers"]["Mobile"],
        f"{street['StreetNumber']} {street['StreetName']}",
    ]
    for secret in secrets:
        assert secret.casefold() not in xml, secret
    if learner_id == "116":
        assert "grace.hall@oldmail" not in xml  # the contact's stale email too
    text = text_of(out)
    assert "Redacted: names, email addresses, phone numbers and street lines" in text
    assert text.count("Person A") >= 3  # one pseudonym, used consistently
    assert learner["LearnerNumber"] in text  # ids stay: support needs them


def test_identity_documents_never_reach_the_document(
    cli: Callable[..., Run],
    demo_tenant: dict[str, Any],
    write_tenant: Callable[..., Path],
    tmp_path: Path,
) -> None:
    learner = next(x for x in demo_tenant["wisenet"]["learners"] if x["LearnerId"] == 123)
    learner["Personal"].update(
        DateOfBirth="1990-04-17T00:00:00",
        UniqueStudentIdentifier="USI7QX9PL2K",
        TaxFileNumber="123456782",
        MedicareNumber="2123456701",
        HealthcareNumber="HC99887766",
    )
    learner["International"] = {"PassportNumber": "PA9911223"}
    out = tmp_path / "pii.docx"
    cli("learner", "123", "--sandbox", str(write_tenant(demo_tenant)), "--report", str(out))
    xml = xml_of(out)
    for value in (
        "1990-04-17",
        "USI7QX9PL2K",
        "123456782",
        "2123456701",
        "HC99887766",
        "PA9911223",
    ):
        assert value not in xml


@contextlib.contextmanager
def working_in(folder: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def test_report_without_a_name_writes_the_default_file_here(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    with working_in(tmp_path):
        run = cli("learner", "Jane Citizen", "--report", "--json")
    assert run.json()["status"] == "fail"  # --report took no value from --json
    written = list(tmp_path.glob("support-request-learner-123-*.docx"))
    assert len(written) == 1
    assert re.fullmatch(r"support-request-learner-123-\d{4}-\d{2}-\d{2}\.docx", written[0].name)
    assert f"support request written to {written[0].name}" in run.err
    with working_in(tmp_path):
        cli("invoice", "INV-0042", "--report")
    assert list(tmp_path.glob("support-request-invoice-INV-0042-*.docx"))


def test_replay_writes_the_report_offline(cli: Callable[..., Run], tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    cli("learner", "113", "--save", str(snapshot))
    out = tmp_path / "from-snapshot.docx"
    run = cli("replay", str(snapshot), "--report", str(out))
    assert run.code == 1
    assert "invoice.in-wisenet" in text_of(out)


def test_another_template_is_used_with_its_own_letterhead(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    custom = Document()
    custom.sections[0].header.paragraphs[0].text = "ACME TRAINING LETTERHEAD"
    custom.add_paragraph("Ticket for {{ organisation }}: {{ verdict }}")
    custom.add_paragraph("{{ body }}")
    custom.add_paragraph("Kind regards, the ACME office")
    template = tmp_path / "acme.docx"
    custom.save(str(template))
    out = tmp_path / "acme-ticket.docx"
    run = cli("learner", "123", "--report", str(out), "--template", str(template))
    assert run.code == 1, run.err
    doc = Document(str(out))
    assert doc.sections[0].header.paragraphs[0].text == "ACME TRAINING LETTERHEAD"
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "Ticket for Demo RTO Pty Ltd: The sync is blocked."
    assert texts[-1] == "Kind regards, the ACME office"  # the evidence went where {{ body }} was
    assert "Wisenet learner" in texts


def _broken_template(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.docx"
    if kind == "not-docx":
        path.write_text("just text")
    elif kind == "jinja":
        doc = Document()
        doc.add_paragraph("{{ organisation ")
        doc.save(str(path))
    return path


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("missing", "does not exist"),
        ("not-docx", "is not a .docx file"),
        ("jinja", "Word template"),
    ],
)
def test_a_bad_template_gets_one_line_and_exit_2(
    cli: Callable[..., Run], tmp_path: Path, kind: str, needle: str
) -> None:
    out = tmp_path / "x.docx"
    run = cli(
        "learner", "123", "--report", str(out), "--template", str(_broken_template(tmp_path, kind))
    )
    assert run.code == 2
    assert run.out == ""
    assert len(run.err.strip().splitlines()) == 1
    assert needle in run.err
    assert not out.exists()


def test_report_options_are_checked_before_anything_is_fetched(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    run = cli("learner", "123", "--report", str(tmp_path / "nope" / "x.docx"))
    assert (run.code, run.out) == (2, "")
    assert "folder" in run.err
    template = cli("learner", "123", "--template", str(tmp_path / "t.docx"))
    assert (template.code, template.err) == (2, "diagnose: --template goes with --report\n")


def test_an_invoice_without_a_learner_says_why_nothing_was_looked_up(
    documents: dict[tuple[str, str], tuple[Path, Any]],
) -> None:
    text = text_of(documents[("invoice", "INV-0050")][0])
    assert "Not looked up: the invoice's contact has no Contact Code" in text
    assert "Could not be fetched" not in text


def test_the_support_request_reads_as_a_ticket(
    documents: dict[tuple[str, str], tuple[Path, Any]],
) -> None:
    path, diagnosis = documents[("learner", "123")]
    with zipfile.ZipFile(path) as archive:
        body = archive.read("word/document.xml").decode()
        rels = archive.read("word/_rels/document.xml.rels").decode()
        footer = "".join(archive.read(n).decode() for n in archive.namelist() if "footer" in n)
        styles = archive.read("word/styles.xml").decode()
        app = archive.read("docProps/app.xml").decode()
        names = archive.namelist()
    text = text_of(path)
    found = headings(path)
    assert found[:3] == ["Summary", "Our request", "Requester and organisation"]
    summary = text.split("Summary\n", 1)[1].split("\n", 1)[0]
    assert summary.startswith("Learner 123 · Jane Citizen · STD0000123 is not syncing")
    assert "AUD 1,850.00 outstanding, since 2026-10-29." in summary
    assert "Re-import invoice INV-0042 into the learner's Xero Invoices tab" in text
    assert "Name | Sam Support" in text
    assert "Ticket reference | (to fill in)" in text
    titles = [f["title"] for f in diagnosis["findings"]]
    for heading in (h for h in found if h.startswith("✗")):
        assert not any(title in heading for title in titles), heading  # never a passing condition
    assert "<w:hyperlink" in body
    assert re.search(r'Target="https://go\.xero\.com/Contacts/View/[0-9a-f-]{36}"', rels)
    assert 'TargetMode="External"' in rels
    assert 'w:instr="PAGE"' in footer
    assert 'w:instr="NUMPAGES"' in footer
    assert "<w:tblHeader/>" in body
    assert "<w:cantSplit/>" in body
    assert 'w:val="en-AU"' in styles
    assert re.search(r"\d\d:\d\d AE[DS]T \(2\d{3}-\d\d-\d\d \d\d:\d\d UTC\)", text)
    assert "these checks were run" in text  # the timeline
    assert "<Application>diagnose</Application>" in app
    assert "Microsoft" not in app
    assert "docProps/thumbnail.jpeg" not in names
    assert "docProps/thumbnail.png" in names
    assert "Confidential: holds personal information of learners" in xml_of(path)


def test_an_invoice_s_document_is_titled_by_the_invoice(
    documents: dict[tuple[str, str], tuple[Path, Any]],
) -> None:
    path, _ = documents[("invoice", "INV-0042")]
    title = Document(str(path)).core_properties.title
    assert title.startswith("Support request: invoice INV-0042")
    assert "Summary\nInvoice INV-0042" in text_of(path)


def test_without_a_staff_name_the_author_is_the_tool_not_the_login(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIAGNOSE_STAFF_NAME", raising=False)
    out = tmp_path / "r.docx"
    assert cli("learner", "101", "--report", str(out)).code == 0
    assert Document(str(out)).core_properties.author == "diagnose"
    assert "Name | (to fill in)" in text_of(out)


def test_times_are_the_organisation_s_beside_utc() -> None:
    from zoneinfo import ZoneInfo

    from diagnose.report.model import when_text

    sydney = ZoneInfo("Australia/Sydney")
    summer = datetime(2026, 11, 30, 17, 22, tzinfo=UTC)
    winter = datetime(2026, 6, 30, 17, 22, tzinfo=UTC)
    assert when_text(summer, sydney) == "2026-12-01 04:22 AEDT (2026-11-30 17:22 UTC)"
    assert when_text(winter, sydney) == "2026-07-01 03:22 AEST (2026-06-30 17:22 UTC)"
    assert when_text(winter, ZoneInfo("Australia/Perth")).startswith("2026-07-01 01:22 AWST")


def test_redacted_calls_are_marked_not_rewritten(cli: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    cli("learner", "123", "--report", str(out), "--redact")
    text = text_of(out)
    assert "GET /api.xro/2.0/Contacts?includeArchived=true&page=1&searchTerm=[redacted]" in text
    assert "searchTerm=Person" not in text  # no call that was never made


def test_the_scan_report_is_a_health_report_and_redacts(
    cli: Callable[..., Run], demo_tenant: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "health.docx"
    run = cli("scan", "--report", str(out), "--redact")
    assert run.code == 1, run.err
    title = Document(str(out)).core_properties.title
    assert title == "Sync health report: Demo RTO Pty Ltd"
    assert "support request" not in xml_of(out).casefold()  # its own kind, in the header too
    with zipfile.ZipFile(out) as archive:
        words = " ".join(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("word/")
        )
    for learner in demo_tenant["wisenet"]["learners"]:
        personal = learner["Personal"]
        for value in (personal["FirstName"], personal["LastName"]):
            if value.strip():
                assert not re.search(rf"\b{re.escape(value)}\b", words, re.IGNORECASE), value
    text = text_of(out)
    assert "learner 123 | fail | Open in Xero" in text  # per record, with its link
    assert "API calls" in headings(out)
    assert cli("scan", "--redact").code == 2  # only with --report

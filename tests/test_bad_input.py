"""Bad input, property-based: whatever a user types or a record holds, `diagnose` answers with a
clear line or a correct result — never a crash, never a crashed check, never text in a Xero
`where`, never a malformed Word document."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIGURES, Run
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gather import Seen, diagnose_with

from diagnose import runner
from diagnose.errors import TenantFileError
from diagnose.evidence import RawEvidence
from diagnose.gather import gather_invoice, gather_learner
from diagnose.model import Diagnosis
from diagnose.refs import parse_invoice_ref, parse_learner_ref
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.tenant import Tenant, load_tenant
from diagnose.sources.sandbox import sandbox_sources
from diagnose.textsafe import json_text, xml_safe

DEMO = load_tenant(demo_tenant_path())
SAFE_WHERE = re.compile(r'Contact\.ContactNumber=="[A-Za-z0-9._-]+"')
SOAK = int(os.environ.get("DIAGNOSE_SOAK", "1"))
FIXTURE = settings(
    max_examples=60 * SOAK,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
# text that breaks naive code: XML specials, control characters, quotes, escapes, emoji
hostile = st.lists(
    st.text(max_size=6)
    | st.sampled_from(["<", ">", "&", '"', "'", "]]>", "\x00", "\x1b[31m", "\ud800", "\u202e"]),
    max_size=8,
).map("".join)


def load(document: dict[str, Any]) -> Tenant | str:
    """The tenant, or the one line `--sandbox FILE` would print for it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tenant.json"
        path.write_text(json_text(document), encoding="utf-8")
        try:
            return load_tenant(path)
        except TenantFileError as exc:
            return str(exc)


def demo() -> dict[str, Any]:
    return json.loads(demo_tenant_path().read_text())  # type: ignore[no-any-return]


def record(document: dict[str, Any], learner_id: int) -> dict[str, Any]:
    return next(x for x in document["wisenet"]["learners"] if x["LearnerId"] == learner_id)


EXAMPLES: Counter[str] = Counter()


def tally(what: str) -> None:
    EXAMPLES[what] += 1
    FIGURES["bad input"] = (
        ", ".join(f"{n} {what}" for what, n in EXAMPLES.items())
        + ": no crash, no crashed check, no text in a `where`, no malformed document"
    )


def sound(diagnosis: Diagnosis, seen: Seen) -> None:
    """No check crashed, and nothing but a strict Contact Code reached a `where`."""
    crashed = [f.message for f in diagnosis.findings if "the check crashed" in f.message]
    assert crashed == []
    assert all(SAFE_WHERE.fullmatch(q["where"][0]) for _, q in seen if "where" in q)


@FIXTURE
@given(ref=st.text(max_size=300))
def test_any_invoice_reference_gets_a_diagnosis_or_one_line(
    cli: Callable[..., Run], ref: str
) -> None:
    tally("invoice references")
    run = cli("invoice", "--json", "--", ref)
    assert run.code in (0, 1, 2), run
    assert "Traceback" not in run.err
    if run.code == 2:
        assert run.err.count("\n") == 1
        assert run.err.startswith("diagnose: ")
        error = run.json()  # --json: one document on stdout, failures included
        assert error["exit_code"] == 2
        assert error["error"]["message"] == run.err.removeprefix("diagnose: ").strip()
    else:
        assert run.json()["subject"]["ref"] == ref


@FIXTURE
@given(ref=hostile)
def test_an_invoice_reference_never_reaches_a_where(ref: str) -> None:
    tally("hostile invoice references")
    from diagnose.errors import DiagnoseError

    seen: Seen = []
    try:
        diagnosis = diagnose_with("invoice", ref, DEMO, seen)
    except DiagnoseError:  # refused or not found: nothing reached a `where` either
        diagnosis = None
    if diagnosis is not None:
        sound(diagnosis, seen)
    assert all(SAFE_WHERE.fullmatch(q["where"][0]) for _, q in seen if "where" in q)


LEARNER_FIELDS = [
    ("Personal", "FirstName"),
    ("Personal", "LastName"),
    ("Personal", "LearnerNumber"),
    ("Personal", "SyncToXero"),
    ("Contact", "Email"),
]


@FIXTURE
@given(field=st.sampled_from(LEARNER_FIELDS), value=json_values | hostile)
def test_any_value_in_a_learner_field_is_diagnosed_or_refused_in_one_line(
    field: tuple[str, str], value: Any
) -> None:
    tally("learner field values")
    document = demo()
    data = record(document, 101)
    data.setdefault(field[0], {})[field[1]] = value
    tenant = load(document)
    if isinstance(tenant, str):  # refused, in one line
        assert "\n" not in tenant
        return
    seen: Seen = []
    sound(diagnose_with("learner", "101", tenant, seen), seen)


XERO_KEYS = {
    "contacts": ["ContactStatus", "ContactNumber", "Name", "EmailAddress", "Addresses"],
    "invoices": ["Status", "Type", "Date", "DueDate", "Contact", "Total", "LineItems"],
}
odd_values = st.one_of(
    st.none(),
    st.sampled_from(["SUBMITTED_FOR_REVIEW", "SOMETHING_NEW", "", "2026-13-45", "/Date(abc)/"]),
    st.sampled_from(["/Date(1735689600000+1300)/", "2026-11-22T09:15:00", "22/11/2026"]),
    json_values,
)


def gathered(kind: str, ref: str) -> RawEvidence:
    async def go() -> RawEvidence:
        async with sandbox_sources(DEMO) as sources:
            if kind == "learner":
                return await gather_learner(parse_learner_ref(ref), sources, typed=ref)
            return await gather_invoice(parse_invoice_ref(ref), sources, typed=ref)

    return asyncio.run(go())


# Xero's answers for learner 123 and invoice INV-0042, as they came over the wire
ANSWERS = {
    subject: gathered(*subject).to_json()
    for subject in (("learner", "123"), ("invoice", "INV-0042"))
}


@FIXTURE
@given(
    subject=st.sampled_from(sorted(ANSWERS)),
    changes=st.lists(
        st.tuples(
            st.sampled_from(["Contacts", "Invoices"]), st.integers(0, 7), st.booleans(), odd_values
        ),
        max_size=5,
    ),
)
def test_xero_answers_with_missing_null_unknown_or_odd_fields_never_crash_a_check(
    subject: tuple[str, str], changes: list[tuple[str, int, bool, Any]]
) -> None:
    """Straight into the parsing and the checks: what the live Xero may send, unvalidated."""
    tally("spoiled Xero answers")
    document = copy.deepcopy(ANSWERS[subject])
    records = [
        record
        for payload in document["payloads"].values()
        if isinstance(payload, dict)
        for name in ("Contacts", "Invoices")
        for record in payload.get(name) or []
        if isinstance(record, dict)
    ]
    assert records
    for collection, index, remove, value in changes:
        keys = XERO_KEYS[collection.lower()]
        for record in records:
            if ("InvoiceID" in record) == (collection == "Invoices"):
                key = keys[index % len(keys)]
                if remove:
                    record.pop(key, None)
                else:
                    record[key] = value
    diagnosis = runner.diagnose(RawEvidence.from_json(document))
    sound(diagnosis, [])


@FIXTURE
@given(details=hostile, related=hostile)
def test_any_event_alert_text_is_diagnosed(details: str, related: str) -> None:
    tally("alert texts")
    document = demo()
    document["wisenet"].setdefault("event_alerts", []).append(
        {
            **document["wisenet"]["event_alerts"][0],
            "AlertDetails": details,
            "RelatedRecord": related,
        }
    )
    tenant = load(document)
    assert not isinstance(tenant, str), tenant
    seen: Seen = []
    sound(diagnose_with("learner", "123", tenant, seen), seen)


@settings(max_examples=15 * SOAK, deadline=None, suppress_health_check=list(HealthCheck))
@given(first=hostile, last=hostile, email=hostile, street=hostile, alert=hostile)
def test_xml_hostile_text_in_every_field_makes_a_well_formed_word_document(
    cli: Callable[..., Run], tmp_path_factory: pytest.TempPathFactory, first: str, last: str,
    email: str, street: str, alert: str,
) -> None:  # fmt: skip
    tally("hostile Word documents")
    folder = tmp_path_factory.mktemp("hostile")
    document = demo()
    data = record(document, 123)
    data["Personal"].update(FirstName=first or "x", LastName=last or "y")
    data.setdefault("Contact", {})["Email"] = email
    for address in data.get("Addresses") or []:
        address["StreetName"] = street
    document["wisenet"]["event_alerts"][0].update(AlertDetails=alert, RelatedRecord="STD0000123")
    source = folder / "tenant.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    report = folder / "ticket.docx"
    run = cli("learner", "123", "--sandbox", str(source), "--report", str(report))
    if run.code == 2:  # the tenant file itself refused, in one line
        assert run.err.count("\n") == 1
        return
    assert run.code in (0, 1), run.err
    with zipfile.ZipFile(report) as package:
        assert package.testzip() is None
    text = "\n".join(p.text for p in Document(str(report)).paragraphs)
    text += "\n".join(c.text for t in Document(str(report)).tables for r in t.rows for c in r.cells)
    shown = xml_safe(f"{first or 'x'} {last or 'y'}").strip()
    assert " ".join(shown.split()) in " ".join(text.split())


XML_CHAR = re.compile("[\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@settings(max_examples=300 * SOAK, deadline=None)
@given(text=st.text(st.characters(exclude_categories=()), max_size=40) | hostile)
def test_xml_safe_keeps_every_printable_character_and_nothing_xml_forbids(text: str) -> None:
    """Whatever the text, what is left is XML 1.0 with no escape sequence; and printable text
    (which takes the fast way) comes back whole."""
    cleaned = xml_safe(text)
    assert all(XML_CHAR.fullmatch(c) for c in cleaned), ascii(cleaned)
    if text.isprintable():
        assert cleaned == text
    assert xml_safe(f"\x1b[31m{text}\x1b[0m\x00") == cleaned


def test_oversized_input_gets_one_line_or_a_result(cli: Callable[..., Run], tmp_path: Path) -> None:
    huge = "x" * 1_000_000
    for args in (("learner", huge), ("invoice", huge), ("learner", f"Jane {huge}")):
        run = cli(*args)
        assert run.code == 2
        assert (run.out, run.err.count("\n")) == ("", 1)
        assert len(run.err) < 300  # the line does not echo a megabyte back
    document = demo()
    record(document, 101)["Personal"]["FirstName"] = "Long" * 50_000  # a 200,000-character name
    document["wisenet"]["event_alerts"][0]["AlertDetails"] = "!" * 1_000_000
    source = tmp_path / "tenant.json"
    source.write_text(json.dumps(document))
    run = cli("learner", "101", "--sandbox", str(source), "--json")
    assert run.code in (0, 1, 2), run.err
    assert "Traceback" not in run.err
    if run.code != 2:
        assert {f["status"] for f in run.json()["findings"]} <= {"pass", "warn", "fail", "skip"}

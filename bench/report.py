"""Print how long the Word support request takes for a learner with many invoices.

    python bench/report.py [--invoices 50] [--runs 5]

Builds a tenant from the demo one in which learner 101 has N invoices (each with a line item and
a row on the Xero Invoices tab), diagnoses the learner once, then times building the report and
writing the .docx (best and median of the runs). Target on the reference machine: under 1 s for
50 invoices. This script reports; it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from diagnose import runner
from diagnose.evidence import Evidence, RawEvidence
from diagnose.gather import gather_learner
from diagnose.refs import parse_learner_ref
from diagnose.render.word import write_report
from diagnose.report import build_report
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.tenant import parse_tenant
from diagnose.sources.sandbox import sandbox_sources


def tenant_with(invoices: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(demo_tenant_path().read_text(encoding="utf-8"))
    xero, wisenet = document["xero"]["invoices"], document["wisenet"]["invoices"]
    template = next(i for i in xero if i["InvoiceNumber"] == "INV-0001")
    row = next(r for r in wisenet if r["InvoiceNumber"] == "INV-0001")
    contact = template["Contact"]["ContactID"]
    existing = sum(1 for i in xero if i["Contact"]["ContactID"] == contact)
    for n in range(invoices - existing):
        invoice = copy.deepcopy(template)
        invoice["InvoiceID"] = f"00000000-0000-4000-8000-{n:012d}"
        invoice["InvoiceNumber"] = f"INV-9{n:04d}"
        xero.append(invoice)
        tab = copy.deepcopy(row)
        tab.update(InvoiceId=invoice["InvoiceID"], InvoiceNumber=invoice["InvoiceNumber"])
        wisenet.append(tab)
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tenant = parse_tenant(tenant_with(args.invoices))

    async def gather() -> RawEvidence:
        async with sandbox_sources(tenant) as sources:
            return await gather_learner(parse_learner_ref("101"), sources, typed="101")

    raw = asyncio.run(gather())
    diagnosis = runner.diagnose(raw)
    invoices = len({f.target.key for f in diagnosis.findings if f.target.kind.value == "invoice"})
    times = []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bench.docx"
        for _ in range(args.runs):
            started = time.perf_counter()
            report = build_report(diagnosis, Evidence(raw), redact=False)
            write_report(report, out)
            times.append(time.perf_counter() - started)
        size = out.stat().st_size
    print(
        f"learner 101 with {invoices} Xero invoices; {args.runs} runs; "
        f"document {size / 1024:.0f} KiB"
    )
    print(
        f"build + write the .docx: best {min(times):.3f} s, median {statistics.median(times):.3f} s"
    )


if __name__ == "__main__":
    main()

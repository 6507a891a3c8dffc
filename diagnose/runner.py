"""One diagnosis from start to finish: pick the tenant, gather, run the catalogue.

Shared by the CLI (and later the TUI), so both diagnose exactly the same way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from diagnose import engine
from diagnose.evidence import Evidence, RawEvidence
from diagnose.gather import gather_invoice, gather_learner
from diagnose.model import Diagnosis, SubjectKind
from diagnose.refs import parse_invoice_ref, parse_learner_ref
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.tenant import Tenant, load_tenant
from diagnose.sources.sandbox import sandbox_sources

SANDBOX_ENV = "DIAGNOSE_SANDBOX"


def sandbox_tenant(path: Path | None) -> tuple[Tenant, bool]:
    """The tenant to serve and whether it is the built-in demo: `--sandbox`, then
    `$DIAGNOSE_SANDBOX`, then the demo tenant shipped in the package."""
    if path is None and os.environ.get(SANDBOX_ENV):
        path = Path(os.environ[SANDBOX_ENV])
    if path is None:
        return load_tenant(demo_tenant_path()), True
    return load_tenant(path), False


async def gather_async(
    kind: SubjectKind, typed: str, tenant: Tenant, *, app: Any = None
) -> RawEvidence:
    """Validate the reference, then fetch the evidence from the sandbox tenant (served by `app`
    when given: tests pass a wrapped sandbox to watch or break it)."""
    if kind is SubjectKind.LEARNER:
        learner_ref = parse_learner_ref(typed)
        async with sandbox_sources(tenant, app=app) as sources:
            return await gather_learner(learner_ref, sources, typed=typed)
    invoice_ref = parse_invoice_ref(typed)
    async with sandbox_sources(tenant, app=app) as sources:
        return await gather_invoice(invoice_ref, sources, typed=typed)


def gather(kind: SubjectKind, typed: str, tenant: Tenant) -> RawEvidence:
    """`gather_async` for callers without an event loop (the CLI)."""
    return asyncio.run(gather_async(kind, typed, tenant))


def diagnose(raw: RawEvidence, only: Sequence[str] = ()) -> Diagnosis:
    catalogue = engine.load_catalogue()
    selected = engine.select(catalogue, only) if only else catalogue
    return engine.run(Evidence(raw), selected, report=only or None)

"""How the walkthrough shows a diagnosis: the status colours (readable in every theme), the
verdict and the wait in words, cells cut with "…"."""

from __future__ import annotations

import os

from diagnose.config import zone
from diagnose.model import (
    VERDICTS,
    ApiCall,
    Diagnosis,
    Finding,
    ProblemKind,
    Service,
    Status,
    TargetKind,
)

# Each status readable at WCAG AA (4.5:1 or more) on the theme's background: light colours on
# dark themes, dark ones on light themes, and bold/reverse when NO_COLOR asks for no colour.
DARK = {
    Status.PASS: "bold #7ee787",
    Status.WARN: "bold #ffb454",
    Status.FAIL: "bold #ff7b72",
    Status.SKIP: "#a0a0a0",
    Status.ERROR: "bold #d2a8ff",
}
LIGHT = {
    Status.PASS: "bold #116329",
    Status.WARN: "bold #8a4600",
    Status.FAIL: "bold #b00020",
    Status.SKIP: "#595959",
    Status.ERROR: "bold #7a1fa2",
}
PLAIN = {
    Status.PASS: "bold",
    Status.WARN: "bold underline",
    Status.FAIL: "bold reverse",
    Status.SKIP: "",
    Status.ERROR: "bold reverse",
}


def status_style(status: Status, dark: bool) -> str:
    if os.environ.get("NO_COLOR"):
        return PLAIN[status]
    return (DARK if dark else LIGHT)[status]


CAUSES = {  # why a check could not be decided, in words
    ProblemKind.UNREACHABLE: "Wisenet or Xero could not be reached",
    ProblemKind.AUTH: "our sign-in was refused",
    ProblemKind.RATE_LIMITED: "Xero's call limit was reached",
    ProblemKind.TIMEOUT: "an answer took too long",
    ProblemKind.BAD_RESPONSE: "an answer could not be read",
    ProblemKind.NOT_FETCHED: "an earlier answer was missing",
    ProblemKind.WRONG_ADDRESS: "a profile setting names the wrong address",
}


def waiting_text(calls: list[ApiCall], seconds: float) -> str:
    """While the answers come: each service's answered calls, its retries, the time waited."""
    parts = []
    for service, name in ((Service.WISENET, "Wisenet"), (Service.XERO, "Xero")):
        mine = [c for c in calls if c.service is service]
        answered = sum(1 for c in mine if c.status is not None and c.status < 500)
        retried = len(mine) - answered
        state = f"{answered} answered" + (f", {retried} retried" if retried else "")
        parts.append(f"{name}: {state if mine else 'asking'}")
    return f"Asking Wisenet and Xero… {' · '.join(parts)} · {seconds:.0f} s"


def cut(text: str, width: int) -> str:
    """`text` in `width` cells, ending in "…" when it had to be cut (never cut silently)."""
    return text if len(text) <= width else text[: max(width - 1, 0)].rstrip() + "…"


def for_label(finding: Finding) -> str:
    kind = finding.target.kind
    if kind is TargetKind.INVOICE:
        return finding.target.label.removeprefix("invoice ")
    return "" if kind is TargetKind.TENANT else "learner"


def counts_text(d: Diagnosis) -> str:
    """The counts that are not zero, and the passes: "4 failed · 17 passed"."""
    named = ((Status.FAIL, "failed"), (Status.WARN, "warned"), (Status.ERROR, "undecided"))
    return " · ".join(
        [f"{d.count(s)} {word}" for s, word in named if d.count(s)]
        + [f"{d.count(Status.PASS)} passed"]
    )


def verdict_words(d: Diagnosis) -> str:
    """The verdict in words, with where the fix is, or why it is incomplete."""
    if d.status is Status.ERROR:
        causes = sorted({CAUSES.get(f.cause, f.cause.value) for f in d.findings if f.cause})
        return f"☠ Incomplete: {'; '.join(causes) or 'a call was not answered'}. Press r to retry."
    hint = {Status.FAIL: " Enter on a ✗ shows the fix."}.get(d.status, "")
    return f"{d.status.glyph} {VERDICTS[d.status]}{hint}"


def checked_at(d: Diagnosis, zone_name: str) -> str:
    """When the answers came, on the organisation's clock."""
    place = zone(zone_name)
    local = d.taken_at.astimezone(place) if place else d.taken_at
    return f"checked {local:%H:%M} {local.tzname() or 'UTC'}"

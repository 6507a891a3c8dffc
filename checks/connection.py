"""Can we talk to both systems at all? Every other check depends on these two."""

from __future__ import annotations

from diagnose.api import (
    Evidence,
    Outcome,
    Problem,
    Service,
    Status,
    Unavailable,
    check,
    failed,
    passed,
)


@check(
    "connection.wisenet",
    title="Wisenet API answers",
    applies_to="all",
    fix="""
    Check the Wisenet API key or OAuth connection: run `diagnose connect wisenet` again, and make
    sure the key belongs to a Portal Admin with the API licence (LRM › Settings).
    """,
)
def connection_wisenet(evidence: Evidence) -> Outcome:
    """The Wisenet API must answer and accept our credentials before any learner can be read."""
    problem = evidence.service_problem(Service.WISENET)
    if problem is not None:
        raise Unavailable(problem)
    if not evidence.service_answered(Service.WISENET):
        earlier = next(iter(evidence.raw.problems.values()), None)
        if earlier is not None:  # not asked because Xero failed first: undecided, not skipped
            raise Unavailable(
                Problem(Service.WISENET, earlier.kind, f"Wisenet was not asked: {earlier.message}")
            )
        return Outcome(Status.SKIP, "Wisenet was not asked anything for this subject")
    return passed("Wisenet answered and accepted our credentials")


@check(
    "connection.xero",
    title="A Xero organisation is connected",
    applies_to="all",
    fix="""
    Connect an organisation: run `diagnose connect xero` and pick the organisation Wisenet is
    connected to (Wisenet LRM › Settings › Connected Apps › Xero shows its name).
    """,
)
def connection_xero(evidence: Evidence) -> Outcome:
    """Xero must list at least one connected organisation (GET /connections) for our token. The
    one named is the one the diagnosis read (a live diagnosis is labelled with its name), not
    merely the first of several."""
    connections = evidence.connections  # raises Unavailable when /connections did not answer
    problem = evidence.service_problem(Service.XERO)
    if problem is not None:
        raise Unavailable(problem)
    organisations = [c for c in connections if c.tenant_type == "ORGANISATION"]
    if not organisations:
        return failed(
            "our Xero token has no organisation connected",
            connections=[c.tenant_name for c in connections],
        )
    read = next((o for o in organisations if o.tenant_name == evidence.raw.tenant), None)
    chosen = read or organisations[0]
    return passed(
        f"connected to {chosen.tenant_name}",
        organisation=chosen.tenant_name,
        tenant_id=chosen.tenant_id,
    )

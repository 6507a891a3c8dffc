"""What the integration itself reported: LRM › Reports › Event Alerts › Xero."""

from __future__ import annotations

from diagnose.api import (
    EventAlert,
    Evidence,
    Outcome,
    Status,
    Target,
    TargetKind,
    XeroInvoice,
    check,
    counted,
    failed,
    passed,
)


@check(
    "alerts.clear",
    title="No unacknowledged Xero event alert",
    applies_to="both",
    fix="""
    Fix what each alert says (a "<Field> unknown" alert is explained by learner.field-mapping),
    then in Wisenet open LRM › Reports › Event Alerts › Xero, tick the alerts, choose Acknowledge,
    and resync the record.
    """,
)
def alerts_clear(
    target: Target,
    alerts: tuple[EventAlert, ...] | None,
    invoice: XeroInvoice | None,
    evidence: Evidence,
) -> Outcome:
    """When the integration cannot process a record it raises an Event Alert naming the record and
    the reason; an unacknowledged one is the integration's own account of what went wrong."""
    if alerts is None:
        return Outcome(
            Status.SKIP,
            "no Event Alerts were given: export LRM › Reports › Event Alerts › Xero and pass it "
            "with --alerts FILE, or keep it with 'diagnose alerts import FILE'",
        )
    names: set[str] = set()
    if target.kind is TargetKind.INVOICE and invoice is not None:
        names = {invoice.number.casefold()}
    elif target.kind is TargetKind.LEARNER and (learner := evidence.learner) is not None:
        names = {
            learner.learner_number.casefold(),
            learner.full_name.casefold(),
            str(learner.learner_id),
        }
    names.discard("")
    open_alerts = [
        a for a in alerts if not a.acknowledged and related_names(a.related_record) & names
    ]
    if open_alerts:
        rows = [
            {
                "type": a.alert_type,
                "details": a.details,
                "record": a.related_record,
                "created": a.created_on.isoformat() if a.created_on else "",
            }
            for a in open_alerts
        ]
        details = "; ".join(f"{a.alert_type}: {a.details}" for a in open_alerts)
        return failed(
            f"{counted(len(open_alerts), 'unacknowledged alert')}: {details}", alerts=rows
        )
    if len(alerts) <= 1:
        return passed(
            "the 1 alert given is not open for this record"
            if alerts
            else "the Event Alerts given hold no alert"
        )
    return passed(f"none of {len(alerts):,} alerts is open for this record")


def related_names(record: str) -> set[str]:
    """What a Related Record may name, folded: itself, and each side of `STD0000001: Jane
    Citizen`. The scan indexes alerts by the same names."""
    folded = record.strip().casefold()
    return {folded, *(part.strip() for part in folded.split(":", 1))} - {""}

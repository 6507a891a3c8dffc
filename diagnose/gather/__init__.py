"""Gather: fetch everything one subject needs, concurrently, in as few rounds as possible.

For a learner given by LearnerId the critical path is two rounds:

    round 1   Wisenet learner · Wisenet invoices · Xero /connections
    round 2   Xero contact by Contact Code · contact search by name · by email ·
              Xero invoices of that Contact Code

Anything that cannot be fetched is recorded as a `Problem` under its evidence key, so the checks
that need it report `error` with the cause while the rest of the diagnosis still stands.
"""

from diagnose.gather.common import at_once, lookalike_ids, organisation, unconnected
from diagnose.gather.invoice import gather_invoice
from diagnose.gather.learner import gather_learner, gather_learner_contact

__all__ = [
    "at_once",
    "gather_invoice",
    "gather_learner",
    "gather_learner_contact",
    "lookalike_ids",
    "organisation",
    "unconnected",
]

"""Where a write lands: the profile, the Xero organisation and the Wisenet tenant.

Every plan names it, every confirmation asks for it on a live tenant, every audit line and
journal entry records it, so that nobody re-ticks a learner in the wrong organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.textsafe import one_line


@dataclass(frozen=True)
class Where:
    profile: str  # "sandbox", or the live profile's name
    sandbox: str  # "demo", or the tenant file the sandbox serves; "" on a live profile
    organisation: str  # the Xero organisation's name
    organisation_id: str  # its Xero tenantId
    wisenet: str  # the Wisenet tenant, as the profile names it

    @property
    def live(self) -> bool:
        return not self.sandbox

    @property
    def confirm_phrase(self) -> str | None:
        """What a person types to confirm writes at a terminal: a live organisation's name."""
        return one_line(self.organisation) if self.live else None

    def refusal(self, typed: str) -> str:
        """Why what the person typed does not confirm a write here; "" when it does."""
        phrase = self.confirm_phrase
        if phrase is None or typed.strip().casefold() == phrase.casefold():
            return ""
        return f"the name typed ({typed.strip()[:60]!r}) is not {phrase!r}"

    def describe(self) -> str:
        """`Xero organisation Demo RTO Pty Ltd and Wisenet Demo RTO, live profile loop`."""
        place = (
            f"live profile {self.profile}"
            if self.live
            else f"the {'built-in demo' if self.sandbox == 'demo' else self.sandbox} sandbox"
        )
        return one_line(
            f"Xero organisation {self.organisation} and Wisenet {self.wisenet}, {place}"
        )

    def audit_fields(self) -> dict[str, str]:
        return {
            "profile": self.profile,
            "tenant": self.organisation,
            "organisation_id": self.organisation_id,
            "wisenet": self.wisenet,
        }

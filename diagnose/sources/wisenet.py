"""Wisenet API v1: the calls a diagnosis needs, returning payloads exactly as Wisenet sends them."""

from __future__ import annotations

from typing import Any

from diagnose.sources.calls import Request, a_list, envelope
from diagnose.sources.http import Session
from diagnose.textsafe import one_line

PAGE = 1000  # Wisenet's largest page
FILTER_MAX = 200  # longer filter text is cut (a record's text can be any length); matches are
# checked exactly afterwards


def filter_text(value: str) -> str:
    """A filter's text as sent: one line, cut to FILTER_MAX."""
    return one_line(value)[:FILTER_MAX]


class WisenetClient:
    def __init__(self, session: Session, *, flavour: str = "AU") -> None:
        self.session = session
        self.learners_path = f"/learners{flavour}"

    @property
    def learners_address(self) -> str:
        """The learners' path as sent, base included (`/v1/learnersAU`): what plans show."""
        return self.session.base_path + self.learners_path

    def shown(self, request: Request) -> str:
        """A request as a plan shows it: the path with the base address's (`/v1/…`)."""
        return request.shown(self.session.base_path)

    def learner_request(self, learner_id: int) -> Request:
        return Request("GET", f"{self.learners_path}/{learner_id}")

    async def learner(self, learner_id: int) -> Any:
        """`GET /learnersAU/{id}`: a `{Data, Relationships}` item, or None if there is none."""
        return await self.session.get(self.learner_request(learner_id).path, shape=envelope("Data"))

    async def find_learners(
        self, *, number: str | None = None, search: str | None = None, take: int = 50
    ) -> list[Any]:
        """Learners by RefInternal (`learnerNumberFilter`) or by name (`search`): one page."""
        params: dict[str, str | int] = {"skip": 0, "take": take}
        if number is not None:
            params["learnerNumberFilter"] = filter_text(number)
        if search is not None:
            params["search"] = filter_text(search)
        body = await self.session.get(self.learners_path, params=params, shape=a_list)
        return body if isinstance(body, list) else []

    def sync_to_xero_request(self, learner_id: int, ticked: bool) -> Request:
        """`PATCH /learnersAU/{id}` replacing `Personal/SyncToXero` (a JSON Patch)."""
        ops = [{"op": "replace", "path": "Personal/SyncToXero", "value": ticked}]
        return Request("PATCH", f"{self.learners_path}/{learner_id}", ops)

    async def set_sync_to_xero(self, learner_id: int, ticked: bool) -> Any:
        return await self.session.sent(self.sync_to_xero_request(learner_id, ticked))

    async def invoices(self, learner_id: int) -> list[Any]:
        """The learner's Xero Invoices tab (`GET /invoices?learnerIdFilter=`), every page."""
        rows: list[Any] = []
        skip = 0
        while True:
            params: dict[str, str | int] = {
                "learnerIdFilter": learner_id,
                "skip": skip,
                "take": PAGE,
            }
            page = await self.session.get("/invoices", params=params, shape=a_list)
            if not isinstance(page, list):
                return rows
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            skip += PAGE

    async def states(self) -> list[Any]:
        body = await self.session.get("/combos/states", shape=a_list)
        return body if isinstance(body, list) else []

    async def countries(self) -> list[Any]:
        body = await self.session.get("/combos/countries", shape=a_list)
        return body if isinstance(body, list) else []

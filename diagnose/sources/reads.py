"""What a diagnosis reads, and from what: the calls the gatherer makes of Wisenet and Xero.
Both the services' clients (`Sources`) and a scan's fetched pages (`BulkSources`) answer them,
so one gatherer serves the single diagnosis and the scan."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from diagnose.sources.calls import CallLog

T = TypeVar("T")


class WisenetReads(Protocol):
    """The Wisenet calls a diagnosis makes (`WisenetClient`, or the scan's `BulkWisenet`)."""

    async def learner(self, learner_id: int) -> Any: ...

    async def find_learners(
        self, *, number: str | None = None, search: str | None = None, take: int = 50
    ) -> list[Any]: ...

    async def invoices(self, learner_id: int) -> list[Any]: ...


class XeroReads(Protocol):
    """The Xero calls a diagnosis makes (`XeroClient`, or the scan's `BulkXero`)."""

    tenant_id: str | None
    bound: bool  # a custom connection's: its one organisation need not be named on each call
    named_by: str  # where `tenant_id` came from: "profile", "sign-in" (or "" for the sandbox)

    async def connections(self) -> list[Any]: ...

    async def contact_by_number(self, code: str) -> Any: ...

    async def contacts(
        self, *, search_term: str | None = None, ids: Sequence[str] = (), page: int = 1
    ) -> Any: ...

    async def contacts_by_ids(self, ids: Iterable[str]) -> dict[str, list[Any]]: ...

    async def invoices(
        self,
        *,
        numbers: Sequence[str] = (),
        ids: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        contact_code: str | None = None,
        search_term: str | None = None,
    ) -> dict[str, list[Any]]: ...

    async def invoice(self, invoice_id: str) -> Any: ...

    async def invoice_by_number(self, number: str) -> Any: ...


class Reader(Protocol):
    """Where a diagnosis reads from: the services (`Sources`) or a scan's pages (`BulkSources`)."""

    @property
    def wisenet(self) -> WisenetReads: ...
    @property
    def xero(self) -> XeroReads: ...
    @property
    def log(self) -> CallLog: ...
    @property
    def mode(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def alerts(self) -> list[Any] | None: ...
    @property
    def in_memory(self) -> bool: ...

    def parsed(self, parser: Callable[[Any], T], record: Any) -> T:
        """`parser(record)`, perhaps remembered from an earlier subject."""
        ...

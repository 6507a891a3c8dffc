"""The two services as the scan sees them: answered from pages already fetched.

`BulkWisenet` and `BulkXero` offer the calls a diagnosis makes (`learner`, `contacts(search_term=)`,
`invoices(contact_code=)`, …) with the answers Wisenet and Xero would give — the same shapes, the
same matching rules (Xero's `searchTerm` is a case-insensitive "contains" over five fields, a
`where` on the Contact Code is exact, Wisenet's `learnerNumberFilter` ignores letter case) — read
from a `Bulk` instead of the network. The scan hands them to the very gatherer a single diagnosis
uses, so a subject's evidence is built by one code path whichever way it was fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from diagnose import parse
from diagnose.evidence import remembered
from diagnose.latest import Latest
from diagnose.refs import GUID
from diagnose.sources.calls import CallLog
from diagnose.sources.positions import ASKED, Index, TextSearch
from diagnose.sources.wisenet import filter_text
from diagnose.sources.xero import ID_BATCH, SEARCHED, is_safe_code, search_text

XERO_PAGE = 100  # what a `GET /Contacts?page=1` holds
MERGED = "MergedToContactID"
T = TypeVar("T")


@dataclass(repr=False)
class Bulk:
    """What a scan fetched: every page of the four resources, as the services sent them."""

    def __repr__(self) -> str:
        """Counts, not records. `asyncio.run` (Python 3.11) builds the repr of its finished
        task, result included, as it puts back the Ctrl-C handler (`signal.getsignal` meets the
        handler holding the task); a whole tenant's would be 70 MB at 10,000 learners, built
        only to be cut short."""
        return (
            f"Bulk({len(self.learners)} learners, {len(self.wisenet_invoices)} Wisenet invoices, "
            f"{len(self.contacts)} contacts, {len(self.invoices)} Xero invoices)"
        )

    learners: Sequence[Any] = field(default_factory=list)  # `scan_rows.Rows` (on disk), or a list
    wisenet_invoices: Sequence[Any] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)
    contacts: Sequence[Any] = field(default_factory=list)
    invoices: Sequence[Any] = field(default_factory=list)
    alerts: list[Any] | None = None
    unchanged: bool = False  # every record came from the scan's cache, and none had changed
    whole: bool = True  # every invoice (not only those --since asked for)
    generation: str = ""  # which version of the kept rows these are (see scan_cache)
    reused: bool = False  # nothing had changed: the last scan's findings were the answer
    # since the scan kept in the cache (its rows' generation `before`): each resource's rows
    # that changed, as they were and as they are; None when that is not known
    delta: dict[str, list[Any] | None] | None = None
    before: str = ""
    rechecked: tuple[int, int] | None = None  # (subjects checked again, of how many)


def _learner_id(row: Any) -> int | None:
    return parse.integer(parse.unwrap(row)[0], "LearnerId") if isinstance(row, dict) else None


def _learner_number(row: Any) -> str:
    data = parse.unwrap(row)[0] if isinstance(row, dict) else {}
    return parse.text(parse.obj(data, "Personal"), "LearnerNumber").casefold()


def _contact_id(row: Any) -> str:
    return parse.text(row, "ContactID").lower() if isinstance(row, dict) else ""


def _code(row: Any) -> str | None:
    return parse.text(row, "ContactNumber") if isinstance(row, dict) else None


def _invoice_id(row: Any) -> str:
    return parse.text(row, "InvoiceID").lower() if isinstance(row, dict) else ""


def _invoice_contact(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    return parse.text(parse.obj(row, "Contact"), "ContactID").lower()


def _folded(record: Mapping[str, Any], name: str) -> str:
    return str(record.get(name) or "").casefold()


# The calls a scan notes of each subject (`asked`), by a short code: the side, the method, its
# arguments in the order noted, and the resources its answer is made of (a call reading none of
# those that changed answers as it did). `scan_units` asks them again of the rows that changed.
_LEARNERS = frozenset({"learners"})
_CONTACTS = frozenset({"contacts"})
_XERO = frozenset({"contacts", "invoices"})
ASKS: dict[str, tuple[str, str, tuple[str, ...], frozenset[str]]] = {
    "wl": ("w", "learner", ("learner_id",), _LEARNERS),
    "wf": ("w", "find_learners", ("number", "take"), _LEARNERS),
    "wi": ("w", "invoices", ("learner_id",), frozenset({"wisenet_invoices"})),
    "xn": ("x", "contact_by_number", ("code",), _CONTACTS),
    "xs": ("x", "contacts", ("search_term", "ids", "page"), _CONTACTS),
    "xb": ("x", "contacts_by_ids", ("ids",), _CONTACTS),
    "xk": ("x", "coded", ("code",), _CONTACTS),
    "xi": (
        "x",
        "invoices",
        ("numbers", "ids", "contact_ids", "contact_code", "search_term"),
        _XERO,
    ),
    "xv": ("x", "invoice", ("invoice_id",), _XERO),
    "xu": ("x", "invoice_by_number", ("number",), _XERO),
}
Ask = tuple[Any, ...]  # a code of ASKS, then the arguments


class Noting:
    """Notes the calls made while `asked` is a dict (each once, in the order first made)."""

    asked: dict[Ask, None] | None = None

    def _note(self, *ask: Any) -> None:
        if self.asked is not None:
            self.asked[ask] = None


class BulkWisenet(Noting):
    """Wisenet's answers from the fetched pages: the rows are read by position, as asked (the
    indexes hold positions, never records)."""

    def __init__(self, bulk: Bulk) -> None:
        self.bulk = bulk
        self.by_id = Index(bulk.learners, _learner_id)
        self.ids: list[int] = []  # each learner's LearnerId, in Wisenet's order
        self.by_number = Index(bulk.learners, _learner_number)  # by RefInternal, case folded
        self.tab_of = Index(bulk.wisenet_invoices, _learner_id)  # Wisenet invoices by LearnerId
        for n, item in enumerate(bulk.learners):
            learner_id = _learner_id(item)
            if learner_id is not None:
                self.by_id.add(learner_id, n)
                self.ids.append(learner_id)
            self.by_number.add(_learner_number(item), n)
        for n, row in enumerate(bulk.wisenet_invoices):
            learner_id = _learner_id(row)
            if learner_id is not None:
                self.tab_of.add(learner_id, n)

    async def learner(self, learner_id: int) -> Any:
        self._note("wl", learner_id)
        found = self.by_id.find(learner_id)
        return found[0][1] if found else None

    async def find_learners(
        self, *, number: str | None = None, search: str | None = None, take: int = 50
    ) -> list[Any]:
        self._note("wf", number, take)
        if search is not None:
            raise NotImplementedError("a scan looks learners up by LearnerId or RefInternal")
        wanted = filter_text(number or "").casefold()
        if not wanted:
            return []
        found = self.by_number.find(wanted)
        return [row for _, row in found[:take]]

    async def invoices(self, learner_id: int) -> list[Any]:
        self._note("wi", learner_id)
        found = self.tab_of.find(learner_id)
        return [row for _, row in found]


class BulkXero(Noting):
    """Xero's answers from the fetched pages: the rows are read by position, as asked (the
    indexes hold positions, never records)."""

    bound = False  # the organisation the scan read is named
    named_by = ""

    def __init__(self, bulk: Bulk, tenant_id: str | None) -> None:
        self.tenant_id = tenant_id
        self.bulk = bulk
        self.by_id = Index(bulk.contacts, _contact_id)  # the contacts by ContactID, lower case
        self.by_code = Index(bulk.contacts, _code)  # by Contact Code
        for n, contact in enumerate(bulk.contacts):
            if isinstance(contact, dict):
                self.by_id.add(_contact_id(contact), n)
                self.by_code.add(_code(contact), n)
        self.invoices_of = Index(bulk.invoices, _invoice_contact)  # by their contact's ContactID
        self.invoice_by_id = Index(bulk.invoices, _invoice_id)
        self.identified = bytearray(len(bulk.invoices))  # 1 where an InvoiceID can be asked for
        for n, invoice in enumerate(bulk.invoices):
            if isinstance(invoice, dict):
                invoice_id = parse.text(invoice, "InvoiceID")
                self.invoice_by_id.add(invoice_id.lower(), n)
                self.identified[n] = bool(GUID.fullmatch(invoice_id))
                self.invoices_of.add(_invoice_contact(invoice), n)
        self._search: TextSearch | None = None
        self._found: dict[str, list[Any]] = {}  # a learner's searches, asked again per invoice
        self._wholes: Latest[int, Any] = Latest(ASKED)  # invoices lately read on their own

    def note_invoices_on(self, contact_id: str) -> None:
        """Note what `invoices(contact_ids=[contact_id])` would be asked: which invoices a
        contact holds (a scan checks them together)."""
        self._note("xi", (), (), (contact_id,), None, None)

    def coded(self, code: str) -> list[Any]:
        """The contacts whose Contact Code is `code`, exactly, in Xero's order; none for no
        code (a contact without one is not coded "")."""
        return [row for _, row in self.by_code.find(code)] if code else []

    def contact_at(self, contact_id: str) -> int | None:
        found = self.by_id.find(contact_id.lower())
        return found[0][0] if found else None

    def contact(self, contact_id: str) -> Any:
        n = self.contact_at(contact_id)
        return None if n is None else self.bulk.contacts[n]

    def invoices_on(self, contact_id: str) -> list[int]:
        """The positions of the invoices on a contact (its ContactID), in Xero's order."""
        wanted = contact_id.lower()
        found = self.invoices_of.find(wanted)
        return [n for n, _ in found]

    async def connections(self) -> list[Any]:
        # not noted: the connections are part of what a scan's kept findings are kept for
        return list(self.bulk.connections)

    async def contact_by_number(self, code: str) -> Any:
        self._note("xn", code)
        if not is_safe_code(code):
            raise ValueError(f"{code!r} is not a Contact Code that can be looked up by path")
        if GUID.fullmatch(code):  # Xero reads a path key shaped like a GUID as a ContactID
            contact = self.contact(code)
            return {"Contacts": [contact]} if contact else None
        found = self.coded(code)
        return {"Contacts": found[:1]} if found else None

    async def contacts(
        self, *, search_term: str | None = None, ids: Sequence[str] = (), page: int = 1
    ) -> Any:
        self._note("xs", search_term, tuple(ids), page)
        if search_term is not None:
            if self._search is None:
                self._search = TextSearch(self.bulk.contacts, SEARCHED)
            term = search_text(search_term)
            if term not in self._found:
                if len(self._found) >= 256:  # a learner's are asked again by its invoices, next
                    self._found.clear()
                self._found[term] = self._search.find(term)
            rows = self._found[term]
            if ids:
                wanted = {i.lower() for i in ids}
                rows = [c for c in rows if parse.text(c, "ContactID").lower() in wanted]
        elif ids:
            at = sorted({n for i in ids if (n := self.contact_at(i)) is not None})
            rows = [self.bulk.contacts[n] for n in at]
        else:
            rows = [c for c in self.bulk.contacts if isinstance(c, Mapping)]
        return {"Contacts": rows[(page - 1) * XERO_PAGE : page * XERO_PAGE]}

    async def contacts_by_ids(self, ids: Iterable[str]) -> dict[str, list[Any]]:
        """As `XeroClient.contacts_by_ids` asks: sorted IDs in batches, each answered in Xero's
        order."""
        wanted = sorted({i for i in ids if GUID.fullmatch(i)})
        self._note("xb", tuple(wanted))
        found: list[Any] = []
        for start in range(0, len(wanted), ID_BATCH):
            batch = {i.lower() for i in wanted[start : start + ID_BATCH]}
            at = sorted(n for i in batch if (n := self.contact_at(i)) is not None)
            found += [self.bulk.contacts[n] for n in at]
        return {"Contacts": found}

    async def invoices(
        self,
        *,
        numbers: Sequence[str] = (),
        ids: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        contact_code: str | None = None,
        search_term: str | None = None,
    ) -> dict[str, list[Any]]:
        self._note("xi", tuple(numbers), tuple(ids), tuple(contact_ids), contact_code, search_term)
        on: set[str] | None = {c.lower() for c in contact_ids} if contact_ids else None
        if contact_code is not None:
            if not is_safe_code(contact_code):
                raise ValueError(f"{contact_code!r} is not a Contact Code safe to filter on")
            self._note("xk", contact_code)  # the contacts it names: a change to one counts
            coded = {parse.text(c, "ContactID").lower() for c in self.coded(contact_code)}
            on = coded if on is None else on & coded
        if on is None:
            rows = [i for i in self.bulk.invoices if isinstance(i, Mapping)]
        else:  # in the order Xero lists them, as one call would answer
            at = sorted(n for c in on for n in self.invoices_on(c))
            rows = [self.bulk.invoices[n] for n in at]
        if ids:
            wanted = {i.lower() for i in ids}
            rows = [i for i in rows if parse.text(i, "InvoiceID").lower() in wanted]
        if numbers:
            names = set(numbers)
            rows = [i for i in rows if parse.text(i, "InvoiceNumber") in names]
        if search_term:
            term = search_text(search_term).casefold()
            fields = ("InvoiceNumber", "Reference")
            rows = [i for i in rows if any(term in _folded(i, f) for f in fields)]
        return {"Invoices": rows}

    async def invoice(self, invoice_id: str) -> Any:
        """As `GET /Invoices/{InvoiceID}` answers: the invoice with its full contact."""
        if not GUID.fullmatch(invoice_id):
            raise ValueError(f"{invoice_id!r} is not an InvoiceID")
        self._note("xv", invoice_id)
        found = self.invoice_by_id.find(invoice_id.lower())
        if not found:
            return None
        n, row = found[0]
        contact_id = self._joined(row)
        whole = self._wholes.get(n)
        if whole is None:  # the same record when asked again: its parse is remembered
            whole = self._wholes[n] = self._whole(row, contact_id)
        return {"Invoices": [whole]}

    async def invoice_by_number(self, number: str) -> Any:
        """As `GET /Invoices/{InvoiceNumber}` answers: the first invoice of that number."""
        self._note("xu", number)
        found = (await self.invoices(numbers=[number]))["Invoices"]
        return {"Invoices": [self._whole(found[0], self._joined(found[0]))]} if found else None

    def _joined(self, invoice: Any) -> str:
        """The ContactID of the contact an invoice read on its own carries whole: asked for
        too, while a scan records its calls (that answer changes with the contact)."""
        contact_id = parse.text(parse.obj(invoice, "Contact"), "ContactID")
        self._note("xs", None, (contact_id,), 1)
        return contact_id

    def _whole(self, invoice: Any, contact_id: str) -> Any:
        """An invoice fetched on its own carries its contact whole (but not where it was merged
        to: Xero says that only of a contact read by ContactID or Contact Code, or paged)."""
        contact = self.contact(contact_id)
        if not contact:
            return invoice
        return {**invoice, "Contact": {k: v for k, v in contact.items() if k != MERGED}}


@dataclass
class BulkSources:
    """A `Sources` for the gatherer, answered from `bulk`: nothing waits, so each subject's
    gathering finishes at once (see `gather.at_once`)."""

    wisenet: BulkWisenet
    xero: BulkXero
    log: CallLog
    mode: str
    tenant: str
    alerts: list[Any] | None = None
    in_memory: bool = True
    memo: dict[tuple[str, int], Any] = field(default_factory=dict)  # shared with the Evidence

    def parsed(self, parser: Callable[[Any], T], record: Any) -> T:
        return remembered(self.memo, parser, record)

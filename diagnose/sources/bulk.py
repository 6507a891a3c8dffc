"""The two services as the scan sees them: answered from pages already fetched.

`BulkWisenet` and `BulkXero` offer the calls a diagnosis makes (`learner`, `contacts(search_term=)`,
`invoices(contact_code=)`, …) with the answers Wisenet and Xero would give — the same shapes, the
same matching rules (Xero's `searchTerm` is a case-insensitive "contains" over five fields, a
`where` on the Contact Code is exact, Wisenet's `learnerNumberFilter` ignores letter case) — read
from a `Bulk` instead of the network. The scan hands them to the very gatherer a single diagnosis
uses, so a subject's evidence is built by one code path whichever way it was fetched.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, TypeVar

from diagnose import parse
from diagnose.evidence import remembered
from diagnose.refs import GUID
from diagnose.sources.calls import CallLog
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

    learners: Sequence[Any] = field(default_factory=list)  # a list, or the cache's `Kept`
    wisenet_invoices: Sequence[Any] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)
    contacts: Sequence[Any] = field(default_factory=list)
    invoices: Sequence[Any] = field(default_factory=list)
    alerts: list[Any] | None = None
    unchanged: bool = False  # every record came from the scan's cache, and none had changed
    whole: bool = True  # every invoice (not only those --since asked for)
    generation: str = ""  # which version of the kept rows these are (see scan_cache)
    reused: bool = False  # nothing had changed: the last scan's findings were the answer


class BulkWisenet:
    """Wisenet's answers from the fetched pages: the rows are read by position, as asked (the
    indexes hold positions, never records)."""

    def __init__(self, bulk: Bulk) -> None:
        self.bulk = bulk
        self.by_id: dict[int, int] = {}
        self.ids: list[int] = []  # each learner's LearnerId, in Wisenet's order
        self.by_number: dict[str, list[int]] = defaultdict(list)
        self.tab_of: dict[int, list[int]] = defaultdict(list)
        for n, item in enumerate(bulk.learners):
            data, _ = parse.unwrap(item)
            learner_id = parse.integer(data, "LearnerId")
            if learner_id is not None:
                self.by_id.setdefault(learner_id, n)
                self.ids.append(learner_id)
            number = parse.text(parse.obj(data, "Personal"), "LearnerNumber")
            self.by_number[number.casefold()].append(n)
        for n, row in enumerate(bulk.wisenet_invoices):
            data, _ = parse.unwrap(row)
            learner_id = parse.integer(data, "LearnerId")
            if learner_id is not None:
                self.tab_of[learner_id].append(n)

    async def learner(self, learner_id: int) -> Any:
        n = self.by_id.get(learner_id)
        return None if n is None else self.bulk.learners[n]

    async def find_learners(
        self, *, number: str | None = None, search: str | None = None, take: int = 50
    ) -> list[Any]:
        if search is not None:
            raise NotImplementedError("a scan looks learners up by LearnerId or RefInternal")
        wanted = filter_text(number or "")
        found = self.by_number.get(wanted.casefold(), []) if wanted else []
        return [self.bulk.learners[n] for n in found[:take]]

    async def invoices(self, learner_id: int) -> list[Any]:
        return [self.bulk.wisenet_invoices[n] for n in self.tab_of.get(learner_id, ())]


_RUN = re.compile(r"\w+")


class TextSearch:
    """Which records have a field containing a text, ignoring case: Xero's `searchTerm`, without
    reading every record for every search. Each field is cut into runs of word characters; a
    text's inner runs must be whole runs of the field, its first run the end of one and its last
    the start of one. Two runs side by side in the text are side by side in the field, so the
    index of neighbouring runs narrows a name or an email to a few records however common each
    word is (a surname shared by thousands); a single run narrows by itself. Each record left is
    then checked exactly."""

    WIDEST = 64  # neighbouring-run keys a text may stand for before single runs are used instead

    def __init__(self, records: Sequence[Any], fields: Sequence[str]) -> None:
        self.records = records  # read only for what is found
        self.texts: list[tuple[str, ...]] = []  # each record's fields, folded (none: no record)
        postings: dict[str, list[int]] = defaultdict(list)
        pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
        for n, record in enumerate(records):
            texts = tuple(_folded(record, f) for f in fields) if isinstance(record, Mapping) else ()
            self.texts.append(texts)
            runs: set[str] = set()
            neighbours: set[tuple[str, str]] = set()
            for text in texts:
                found = _RUN.findall(text)
                runs.update(found)
                neighbours.update(pairwise(found))
            for run in runs:
                postings[run].append(n)
            for pair in neighbours:
                pairs[pair].append(n)
        self.postings = dict(postings)
        self.pairs = dict(pairs)
        self.forward = sorted(self.postings)
        self.backward = sorted(run[::-1] for run in self.postings)

    def find(self, text: str) -> list[Mapping[str, Any]]:
        folded = text.casefold()
        rows: Iterable[int] = range(len(self.texts))
        if not folded:
            return [self.records[n] for n in rows if self.texts[n]]
        found = list(_RUN.finditer(folded))
        options = [self._runs(m.group(), m.start() > 0, m.end() < len(folded)) for m in found]
        narrowed = self._by_neighbours(options, found)
        if narrowed is None and options:
            smallest = min(options, key=self._size)
            narrowed = {n for name in smallest for n in self.postings[name]}
        if narrowed is not None:
            rows = sorted(narrowed)
        return [self.records[n] for n in rows if any(folded in t for t in self.texts[n])]

    def _by_neighbours(
        self, options: list[list[str]], found: list[re.Match[str]]
    ) -> set[int] | None:
        """The records holding the text's first two runs side by side; None when the text has
        one run, or its first runs could stand for too many neighbouring runs."""
        if len(found) < 2:
            return None
        # the first run is the end of a field's run (or all of one), the second the start of
        # the next (or all of one): `options` holds each's candidates
        firsts, seconds = options[0], options[1]
        if len(firsts) * len(seconds) > self.WIDEST:
            return None
        return {n for a in firsts for b in seconds for n in self.pairs.get((a, b), ())}

    def _size(self, names: list[str]) -> int:
        return sum(len(self.postings[name]) for name in names)

    def _runs(self, run: str, starts: bool, ends: bool) -> list[str]:
        """The fields' runs that are `run` (`starts` and `ends`), begin with it, end with it, or
        hold it."""
        if starts and ends:
            return [run] if run in self.postings else []
        if starts:
            return _prefixed(self.forward, run)
        if ends:
            return [r[::-1] for r in _prefixed(self.backward, run[::-1])]
        return [r for r in self.forward if run in r]


def _prefixed(runs: list[str], prefix: str) -> list[str]:
    start = bisect.bisect_left(runs, prefix)
    end = start
    while end < len(runs) and runs[end].startswith(prefix):
        end += 1
    return runs[start:end]


def _folded(record: Mapping[str, Any], name: str) -> str:
    return str(record.get(name) or "").casefold()


class BulkXero:
    """Xero's answers from the fetched pages: the rows are read by position, as asked (the
    indexes hold positions, never records)."""

    def __init__(self, bulk: Bulk, tenant_id: str | None) -> None:
        self.tenant_id = tenant_id
        self.bulk = bulk
        self.by_id: dict[str, int] = {}  # a contact's position by its ContactID, lower case
        self.by_code: dict[str, list[int]] = defaultdict(list)
        for n, contact in enumerate(bulk.contacts):
            if isinstance(contact, Mapping):
                self.by_id.setdefault(parse.text(contact, "ContactID").lower(), n)
                self.by_code[parse.text(contact, "ContactNumber")].append(n)
        self.invoices_of: dict[str, list[int]] = defaultdict(list)  # positions in bulk.invoices
        self.invoice_by_id: dict[str, int] = {}
        self.identified = bytearray(len(bulk.invoices))  # 1 where an InvoiceID can be asked for
        for n, invoice in enumerate(bulk.invoices):
            if isinstance(invoice, Mapping):
                invoice_id = parse.text(invoice, "InvoiceID")
                self.invoice_by_id.setdefault(invoice_id.lower(), n)
                self.identified[n] = bool(GUID.fullmatch(invoice_id))
                contact_id = parse.text(parse.obj(invoice, "Contact"), "ContactID").lower()
                self.invoices_of[contact_id].append(n)
        self._search: TextSearch | None = None
        self._found: dict[str, list[Any]] = {}  # a learner's searches, asked again per invoice

    def coded(self, code: str) -> list[Any]:
        """The contacts whose Contact Code is `code`, exactly, in Xero's order."""
        return [self.bulk.contacts[n] for n in self.by_code.get(code, ())]

    def contact(self, contact_id: str) -> Any:
        n = self.by_id.get(contact_id.lower())
        return None if n is None else self.bulk.contacts[n]

    async def connections(self) -> list[Any]:
        return list(self.bulk.connections)

    async def contact_by_number(self, code: str) -> Any:
        if not is_safe_code(code):
            raise ValueError(f"{code!r} is not a Contact Code that can be looked up by path")
        if GUID.fullmatch(code):  # Xero reads a path key shaped like a GUID as a ContactID
            contact = self.contact(code)
            return {"Contacts": [contact]} if contact else None
        found = self.by_code.get(code)
        return {"Contacts": [self.bulk.contacts[found[0]]]} if found else None

    async def contacts(
        self, *, search_term: str | None = None, ids: Sequence[str] = (), page: int = 1
    ) -> Any:
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
            at = sorted({n for i in ids if (n := self.by_id.get(i.lower())) is not None})
            rows = [self.bulk.contacts[n] for n in at]
        else:
            rows = [c for c in self.bulk.contacts if isinstance(c, Mapping)]
        return {"Contacts": rows[(page - 1) * XERO_PAGE : page * XERO_PAGE]}

    async def contacts_by_ids(self, ids: Iterable[str]) -> dict[str, list[Any]]:
        """As `XeroClient.contacts_by_ids` asks: sorted IDs in batches, each answered in Xero's
        order."""
        wanted = sorted({i for i in ids if GUID.fullmatch(i)})
        found: list[Any] = []
        for start in range(0, len(wanted), ID_BATCH):
            batch = {i.lower() for i in wanted[start : start + ID_BATCH]}
            at = sorted(self.by_id[i] for i in batch if i in self.by_id)
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
        on: set[str] | None = {c.lower() for c in contact_ids} if contact_ids else None
        if contact_code is not None:
            if not is_safe_code(contact_code):
                raise ValueError(f"{contact_code!r} is not a Contact Code safe to filter on")
            coded = {parse.text(c, "ContactID").lower() for c in self.coded(contact_code)}
            on = coded if on is None else on & coded
        if on is None:
            rows = [i for i in self.bulk.invoices if isinstance(i, Mapping)]
        else:  # in the order Xero lists them, as one call would answer
            rows = [
                self.bulk.invoices[n]
                for n in sorted(n for c in on for n in self.invoices_of.get(c, ()))
            ]
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
        n = self.invoice_by_id.get(invoice_id.lower())
        if n is None:
            return None
        return {"Invoices": [self._whole(self.bulk.invoices[n])]}

    async def invoice_by_number(self, number: str) -> Any:
        """As `GET /Invoices/{InvoiceNumber}` answers: the first invoice of that number."""
        found = (await self.invoices(numbers=[number]))["Invoices"]
        return {"Invoices": [self._whole(found[0])]} if found else None

    def _whole(self, invoice: Any) -> Any:
        """An invoice fetched on its own carries its contact whole (but not where it was merged
        to: Xero says that only of a contact read by ContactID or Contact Code, or paged)."""
        contact = self.contact(parse.text(parse.obj(invoice, "Contact"), "ContactID"))
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

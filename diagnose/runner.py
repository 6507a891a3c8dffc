"""The pieces of a diagnosis beneath the core (`diagnose.core`): the sandbox a command serves,
gathering evidence from sources, running the catalogue."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose import engine
from diagnose.errors import UsageError
from diagnose.evidence import Evidence, RawEvidence
from diagnose.model import Diagnosis, SubjectKind
from diagnose.paths import data_dir
from diagnose.refs import parse_invoice_ref, parse_learner_ref
from diagnose.sandbox import sandbox_source
from diagnose.sandbox.tenant import Tenant, load_tenant
from diagnose.sandbox.workcopy import load_working, record_write, save_working, working_copy_path

if TYPE_CHECKING:  # the network stack loads when a diagnosis runs, not to open a sandbox
    from filelock import FileLock

    from diagnose.sources.both import Sources

WRITER_WAIT = 60  # seconds a writing command waits for another to finish with the sandbox
LOCK_POLL = 0.1  # seconds between two tries for the lock, while another command holds it
WAITING = (
    "another diagnose command is changing this sandbox: waiting for it to finish "
    f"(up to {WRITER_WAIT} s)"
)


Stamp = tuple[int, int, int] | None


def stamp(path: Path) -> Stamp:
    """What tells one version of a file from the next: a write replaces it whole."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


@dataclass
class Sandbox:
    """The sandbox tenant a command works on, and where its writes are kept."""

    tenant: Tenant
    source: Path
    demo: bool
    copy: Path
    lock: FileLock | None = None  # held while a command may write to it
    seen: Stamp = None  # the working copy as its tenant was read (None: there was none)

    def save(self, what: str) -> None:
        """After each write the sandbox accepted: keep the tenant, and log the write."""
        save_working(self.tenant, self.copy)
        self.seen = stamp(self.copy)
        record_write(self.copy, what)

    def refresh(self) -> bool:
        """Read the tenant again when another command changed (or reset) the sandbox since it
        was read: a walkthrough left open sees the writes made meanwhile, and never writes back
        a tenant that lacks them. True when it was read again."""
        now = stamp(self.copy)
        if now == self.seen:
            return False
        fresh, _ = load_working(self.source, demo=self.demo)
        vars(self.tenant).update(vars(fresh))  # the same tenant: an app serving it sees them
        self.seen = now  # (taken before the read: a write meanwhile is read again next time)
        return True

    @property
    def label(self) -> str:
        return "demo" if self.demo else str(self.source)


def writer_lock(source: Path, *, demo: bool) -> FileLock:
    """The lock that writing commands take turns with, one for each sandbox. One a process
    (re-entrant): commands run one after another in-process take it again."""
    from filelock import FileLock

    locks = data_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    name = f"{working_copy_path(source, demo=demo).name}.lock"
    return FileLock(locks / name, WRITER_WAIT, is_singleton=True)


def busy() -> UsageError:
    return UsageError(
        f"another diagnose command has been changing this sandbox for over {WRITER_WAIT} s; "
        "try again when it has finished (nothing written)"
    )


@asynccontextmanager
async def taking_turns(
    box: Sandbox, waiting: Callable[[str], None] | None = None
) -> AsyncIterator[None]:
    """One write to a sandbox (a re-toggle, a Contact Code fix, from the command line or the
    walkthrough): the lock, waited for without holding up a screen, then the tenant read again
    if another command changed it meanwhile. Held for the writes alone: a command waiting at its
    confirmation, or for the sync, keeps no one out. `waiting` is told once when another command
    has the lock; past `WRITER_WAIT` seconds the write is refused."""
    import asyncio

    from filelock import Timeout

    lock = writer_lock(box.source, demo=box.demo)
    deadline = time.monotonic() + WRITER_WAIT
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            if time.monotonic() >= deadline:
                raise busy() from None
            if waiting is not None:
                waiting(WAITING)
                waiting = None
            await asyncio.sleep(LOCK_POLL)
    try:
        box.refresh()
        yield
    finally:
        lock.release()


def open_sandbox(path: Path | None, *, writing: bool = False) -> Sandbox:
    """The tenant as the last write left it (its working copy), else as the source file has it.

    `writing`: the command writes from the start (a journal recovery), so it holds the sandbox's
    lock from before it reads the tenant until it lets go (`Core.done_writing`). Other commands
    take the lock for each write (`taking_turns`); either way, neither loses the other's
    writes."""
    source, demo = sandbox_source(path)
    load_tenant(source)  # a broken source file is reported even when a working copy exists
    lock = None
    if writing:
        from filelock import Timeout

        lock = writer_lock(source, demo=demo)
        try:
            lock.acquire()
        except Timeout:
            raise busy() from None
    seen = stamp(working_copy_path(source, demo=demo))
    tenant, copy = load_working(source, demo=demo)
    return Sandbox(tenant, source, demo, copy, lock, seen)


async def gather_async(
    kind: SubjectKind, typed: str, tenant: Tenant, *, app: Any = None
) -> RawEvidence:
    """Validate the reference, then fetch the evidence from the sandbox tenant (served by `app`
    when given: tests pass a wrapped sandbox to watch or break it)."""
    from diagnose.gather import gather_invoice, gather_learner
    from diagnose.sources.sandbox import sandbox_sources

    if kind is SubjectKind.LEARNER:
        learner_ref = parse_learner_ref(typed)
        async with sandbox_sources(tenant, app=app) as sources:
            return await gather_learner(learner_ref, sources, typed=typed)
    invoice_ref = parse_invoice_ref(typed)
    async with sandbox_sources(tenant, app=app) as sources:
        return await gather_invoice(invoice_ref, sources, typed=typed)


async def gather_from(kind: SubjectKind, typed: str, sources: Sources) -> RawEvidence:
    """Validate the reference, then fetch the evidence from `sources`."""
    from diagnose.gather import gather_invoice, gather_learner

    if kind is SubjectKind.LEARNER:
        return await gather_learner(parse_learner_ref(typed), sources, typed=typed)
    return await gather_invoice(parse_invoice_ref(typed), sources, typed=typed)


def diagnose(raw: RawEvidence, only: Sequence[str] = ()) -> Diagnosis:
    catalogue = engine.load_catalogue()
    selected = engine.select(catalogue, only) if only else catalogue
    return engine.run(Evidence(raw), selected, report=only or None)

"""Finishing a re-toggle an interrupted run left in the journal: through the sandbox or the live
profile it was started with, never another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diagnose import remedy, runner
from diagnose.config import load_profile
from diagnose.core import Core
from diagnose.errors import UsageError


def open_for_entry(entry: Any) -> Core:
    """The core an unfinished journal entry must be finished through: its sandbox, or the
    live profile it was written with (refused when that now reaches another Wisenet)."""
    if entry.profile == "sandbox":
        source = None if entry.sandbox == "demo" else Path(entry.sandbox)
        if source is not None and not source.exists():
            raise FileNotFoundError(str(source))
        chosen = load_profile("sandbox")
        return Core(chosen, runner.open_sandbox(source, writing=True))
    core = Core(load_profile(entry.profile))
    if entry.wisenet and core.profile.wisenet_label != entry.wisenet:
        raise UsageError(
            f"profile {entry.profile!r} now reaches Wisenet {core.profile.wisenet_label}, not "
            f"{entry.wisenet} where the re-toggle started; the entry is kept"
        )
    return core


async def recover_entry(core: Core, entry: Any) -> str:
    async with core.sources() as sources:
        where = await core.where(sources)
        return await remedy.recover(sources.wisenet, entry, where=where)

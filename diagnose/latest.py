"""A dictionary that keeps only its latest entries: what a scan reads again soon or never."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Latest(OrderedDict[K, V]):
    """The `room` entries set last; setting one more drops the one set longest ago. A scan's
    memos (parses, rows read back, index answers) hold this way whatever the tenant's size."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def __setitem__(self, key: K, value: V) -> None:
        if key in self:
            self.move_to_end(key)
        elif len(self) >= self.room:
            self.popitem(last=False)  # (a plain dict's first key is slow to find once many went)
        super().__setitem__(key, value)

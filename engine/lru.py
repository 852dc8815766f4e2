"""A memo that keeps to a budget: at most so many entries and about so many bytes, the least
recently used evicted first. The outcome cache (friction.evaluate) and rank's memo of
attributions (friction.rank) keep their entries in one."""
from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

__all__ = ["BoundedLRU"]

V = TypeVar("V")


class BoundedLRU(Generic[V]):
    """Entries with the bytes each is counted as (the caller estimates them: what grows with
    the policy set). After each `put`, entries are evicted, least recently used first, until
    both budgets are kept; the newest entry always stays, however big."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.bytes = 0   # the sum of the entries' sizes
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()   # least recently used first

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def get(self, key: Hashable) -> V | None:
        """The value (now the most recently used), or None when it is not kept."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        self._entries.move_to_end(key)
        return hit[0]

    def put(self, key: Hashable, value: V, size: int) -> V:
        """Keep `value` as the most recently used entry; returns it."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        entries = self._entries
        entries[key] = (value, size)
        self.bytes += size
        while len(entries) > 1 and (len(entries) > self.max_entries or self.bytes > self.max_bytes):
            self.bytes -= entries.popitem(last=False)[1][1]
        return value

    def sizes(self) -> dict[Hashable, int]:
        """Each kept key and the bytes it is counted as, least recently used first."""
        return {k: size for k, (_, size) in self._entries.items()}

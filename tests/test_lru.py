"""friction.lru.BoundedLRU, the one bounded memo of the outcome cache and rank's memo:
evictions counted by hand."""
from __future__ import annotations

from friction.lru import BoundedLRU


def test_the_least_recently_used_goes_first_when_there_are_too_many():
    lru = BoundedLRU(max_entries=2, max_bytes=100)
    assert lru.put("a", 1, 10) == 1
    lru.put("b", 2, 10)
    assert lru.get("a") == 1             # a is now the most recently used: b goes next
    lru.put("c", 3, 10)
    assert "b" not in lru and list(lru.sizes()) == ["a", "c"] and lru.bytes == 20
    assert lru.get("b") is None and len(lru) == 2


def test_entries_go_until_the_bytes_fit_and_the_newest_always_stays():
    lru = BoundedLRU(max_entries=10, max_bytes=25)
    for key, size in (("a", 10), ("b", 10), ("c", 10)):   # 30 > 25: a goes
        lru.put(key, key.upper(), size)
    assert lru.sizes() == {"b": 10, "c": 10} and lru.bytes == 20
    lru.put("big", "BIG", 1000)          # over budget alone: kept, every other entry gone
    assert lru.sizes() == {"big": 1000} and lru.bytes == 1000 and lru.get("big") == "BIG"
    lru.put("d", "D", 5)                 # 1005 > 25: big goes
    assert lru.sizes() == {"d": 5} and lru.bytes == 5


def test_putting_a_kept_key_again_counts_its_bytes_once():
    lru = BoundedLRU(max_entries=10, max_bytes=100)
    lru.put("a", 1, 30)
    lru.put("b", 2, 30)
    lru.put("a", 9, 50)                  # replaces a, now the most recently used
    assert lru.bytes == 80 and lru.sizes() == {"b": 30, "a": 50} and lru.get("a") == 9

"""What a process keeps between requests so that a page is not made from scratch each time.

One kind of store, :class:`BoundedCache`: at most ``size`` entries, the least recently used
dropped first, shared by a process's threads. Each cache of laks is keyed by the *content*
a value was made from (a text, a definition, a set of answers – or their digest), never by
a row's id alone: an id and a version number may come back with other content (another
database, a restored backup), content cannot.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """A bounded least-recently-used map, with counts of hits and misses (for tests and
    for the benchmark's curiosity)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``make()`` kept now. ``make`` runs outside the
        lock: two threads may both make a missing value, and the second one is kept."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


def content_digest(value) -> bytes:
    """A digest of JSON-like data (answers, definitions) that is the same for equal data
    whatever the order of its keys."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str,
                      separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()

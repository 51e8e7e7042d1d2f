"""A bounded memory of recently read values, for what a version reads again and again but never changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The `size` most recently used values by key; safe to share between the server's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keys: Iterable[K]) -> dict[K, V]:
        """The remembered values among keys (each now the most recently used)."""
        with self._lock:
            found = {k: self._values[k] for k in keys if k in self._values}
            for k in found:
                self._values.move_to_end(k)
        return found

    def put(self, values: Mapping[K, V]) -> None:
        """Remember these values, forgetting the least recently used beyond the size."""
        with self._lock:
            self._values.update(values)
            for k in values:
                self._values.move_to_end(k)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

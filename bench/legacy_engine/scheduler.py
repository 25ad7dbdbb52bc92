"""A lazy-deletion deadline heap for many elders (used by the worker and the bench).

``schedule(elder_id, deadline)`` replaces the elder's pending deadline (old heap
entries are skipped when popped); ``pop_due(now)`` returns the elders whose
deadline has come. After a restart, rebuild it with one ``schedule`` per persisted
state using ``next_deadline(state, config)``.
"""
from __future__ import annotations

import heapq
from typing import Hashable


class DeadlineScheduler:
    __slots__ = ("_heap", "_due")

    def __init__(self) -> None:
        self._heap: list[tuple[float, Hashable]] = []
        self._due: dict[Hashable, float] = {}

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, elder_id: Hashable, deadline: float | None) -> None:
        if deadline is None:
            self._due.pop(elder_id, None)
            return
        if self._due.get(elder_id) == deadline:
            return
        self._due[elder_id] = deadline
        heapq.heappush(self._heap, (deadline, elder_id))
        if len(self._heap) > 2 * len(self._due) + 1024:
            self._compact()

    def peek(self) -> float | None:
        h = self._heap
        while h and self._due.get(h[0][1]) != h[0][0]:
            heapq.heappop(h)
        return h[0][0] if h else None

    def pop_due(self, now: float) -> list[Hashable]:
        h, due, out = self._heap, self._due, []
        while h and h[0][0] <= now:
            dl, eid = heapq.heappop(h)
            if due.get(eid) == dl:
                del due[eid]
                out.append(eid)
        return out

    def _compact(self) -> None:
        self._heap = [(d, e) for e, d in self._due.items()]
        heapq.heapify(self._heap)

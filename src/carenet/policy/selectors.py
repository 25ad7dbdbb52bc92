"""Reads for the policy app."""

from __future__ import annotations

import threading

from django.db.models import Count, Max, Q

from carenet.policy.engine.qa import QAMatcher
from carenet.policy.models import QAPair

_lock = threading.Lock()
_matcher: dict[str, QAMatcher] = {}


def published_pairs():
    return QAPair.objects.filter(status=QAPair.Status.PUBLISHED)


def qa_matcher() -> QAMatcher:
    """A matcher over the published pairs, rebuilt when they change.

    The cache key is derived from the database (count and last update of
    published pairs), so every worker process notices an edit made in any
    other process on its next request.
    """
    agg = published_pairs().aggregate(n=Count("id"), last=Max("updated_at"))
    key = f"{agg['n']}|{agg['last']}"
    found = _matcher.get(key)
    if found is not None:
        return found
    with _lock:
        found = _matcher.get(key)
        if found is None:
            found = QAMatcher([p.as_engine_dict() for p in published_pairs().order_by("id")])
            _matcher.clear()
            _matcher[key] = found
    return found


def search_pairs(q: str = "", status: str = "", topic: str = ""):
    qs = QAPair.objects.select_related("updated_by")
    if q:
        qs = qs.filter(Q(question__icontains=q) | Q(answer__icontains=q))
    if status:
        qs = qs.filter(status=status)
    if topic:
        qs = qs.filter(topic=topic)
    return qs


def topics() -> list[str]:
    return sorted(t for t in QAPair.objects.values_list("topic", flat=True).distinct() if t)


def example_questions(n: int = 6) -> list[str]:
    """A few published questions, one per topic, to show people what they can ask."""
    seen, out = set(), []
    for topic, question in published_pairs().order_by("id").values_list("topic", "question"):
        if topic in seen:
            continue
        seen.add(topic)
        out.append(question)
        if len(out) >= n:
            break
    return out

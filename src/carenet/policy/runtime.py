"""The search index in the web process: loaded lazily, once per process, read-only.

Each worker process loads its own copy from var/policy_index (about 0.4 s and
~400 MB of RAM for the full corpus). Nothing here is shared state between
workers: the index is immutable between rebuilds, and a rebuild is picked up
by comparing the build stamp in meta.json.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from django.conf import settings

from carenet.policy.engine.index import default_index_dir
from carenet.policy.engine.search import IndexNotFound, Searcher

_lock = threading.Lock()
_cache: dict[str, object] = {}


def index_dir() -> Path:
    configured = getattr(settings, "POLICY_INDEX_DIR", None)
    return Path(configured) if configured else default_index_dir()


def _stamp(path: Path) -> str | None:
    try:
        with open(path / "meta.json", encoding="utf-8") as fh:
            return json.load(fh).get("built_at")
    except (OSError, ValueError):
        return None


def get_searcher() -> Searcher | None:
    """The process-wide Searcher, or None when the index has not been built."""
    path = index_dir()
    stamp = _stamp(path)
    if stamp is None:
        return None
    key = f"{path}|{stamp}"
    searcher = _cache.get(key)
    if searcher is not None:
        return searcher  # type: ignore[return-value]
    with _lock:
        searcher = _cache.get(key)
        if searcher is None:
            try:
                searcher = Searcher(path, home_region=getattr(settings, "POLICY_HOME_REGION", None))
            except (IndexNotFound, OSError, ValueError, KeyError):
                return None
            _cache.clear()
            _cache[key] = searcher
    return searcher  # type: ignore[return-value]


def building_marker() -> Path:
    path = index_dir()
    return path.with_name(path.name + ".building")


def index_building() -> bool:
    """True while a build_policy_index process is running (its marker holds a live pid)."""
    try:
        pid = int(building_marker().read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def reset() -> None:
    """Forget the loaded index (tests, or after a rebuild in the same process)."""
    with _lock:
        _cache.clear()


_warm: dict[str, float] = {}


def warm_up() -> dict[str, float]:
    """Load the index, touch jieba, numpy pages and the embedder, and build the Q&A matcher.
    Returns the seconds each step took (also kept for the staff page and the bench)."""
    import time

    t0 = time.perf_counter()
    searcher = get_searcher()
    _warm["index_s"] = round(time.perf_counter() - t0, 3)
    if searcher is not None:
        t1 = time.perf_counter()
        searcher.warm_up()
        _warm["search_s"] = round(time.perf_counter() - t1, 3)
    t2 = time.perf_counter()
    try:
        from carenet.policy.selectors import qa_matcher

        qa_matcher()
    except Exception:  # noqa: BLE001 - no database yet (first migrate): the first request builds it
        pass
    _warm["matcher_s"] = round(time.perf_counter() - t2, 3)
    return dict(_warm)


def start_warm_up() -> threading.Thread:
    thread = threading.Thread(target=warm_up, name="policy-warm-up", daemon=True)
    thread.start()
    return thread

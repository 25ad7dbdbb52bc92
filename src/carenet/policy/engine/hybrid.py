"""Hybrid ranking: BM25 scores fused with dense (semantic) similarity, and place awareness.

    fused(a) = W_BM25 / (RRF_K + rank_bm25(a)) + W_DENSE / (RRF_K + rank_dense(a))

over the union of the BM25 top ``BM25_DEPTH`` and the dense top ``DENSE_EXTRA`` among the
civil-affairs articles that have vectors (reciprocal rank fusion). While the build is partial,
a candidate without a vector is ranked in the dense list as if its similarity were the median
of the candidates that have one (``MISSING_QUANTILE``). The query is embedded in a thread while
BM25 scores, so the two stages overlap (the embedder releases the GIL).

Place awareness (``place_factors``): a province or city named in the question ranks its own
local laws first and pushes other places' local laws down; with no place named, the
deployment's home region is preferred (the BM25 priors already do this). National law always
counts.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .corpus import PROVINCE_NAMES

# ``searcher`` arguments are search.Searcher instances; typed Any because search imports this
# module (an import back, even for typing only, is a cycle for the layer gate).
Searcher = Any

RRF_K = 60
BM25_DEPTH = 200
DENSE_EXTRA = 10
MISSING_QUANTILE: float | None = 0.5  # see fuse(); None: a candidate without a vector keeps its BM25 rank
DENSE_SCAN_ROWS: int | None = None  # None: the civil-affairs rows (Searcher.dense_scan_rows)
W_BM25 = 1.0
W_DENSE = 0.75  # 2026-12-07 tuning on the older sets (not the unseen set), see docs/policy-search.md
# A named place: its own local law is multiplied by PLACE_OWN, other places' local law by
# PLACE_OTHER; national law is left alone.
PLACE_OWN = 3.2  # beats the national prior (2.0): the place named comes first
PLACE_OTHER = 0.35

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="policy-embed")

# Common short names of provinces and their cities that people type (北京, 沪, 京 …).
PROVINCE_ALIASES = {
    "沪": "上海", "京": "北京", "渝": "重庆", "津": "天津", "鲁": "山东", "豫": "河南", "浙": "浙江", "粤": "广东",
}
PROVINCE_FULL = {full: short for short, full in PROVINCE_NAMES.items()}
_PROVINCE_SUFFIX = re.compile(r"(省|市|自治区)?")


def detect_place(query: str, cities: dict[str, str]) -> tuple[str | None, str | None]:
    """(province, city) named in the question, e.g. ("山东", "青岛市"); (None, None) if none.

    ``cities`` maps a city name without 市 (青岛) to (province) for the cities whose local laws
    the corpus holds.
    """
    province = city = None
    for short in PROVINCE_NAMES:
        if short in query:
            province = short
            break
    for name, prov in cities.items():
        if name in query:
            city, province = name + "市", prov
            break
    if province is None:
        for abbr, short in PROVINCE_ALIASES.items():
            if re.search(abbr + r"(?=(地|的|户口|户籍|本地))", query):
                province = short
                break
    return province, city


def place_factors(searcher: Searcher, query: str) -> tuple[np.ndarray | None, str | None, str | None]:
    """Per-article multipliers for the place named in ``query`` (None when no place is named)."""
    province, city = detect_place(query, searcher.city_province)
    if province is None:
        return None, None, None
    law_factor = np.ones(len(searcher.laws), dtype=np.float32)
    regions = searcher._law_region
    local = regions != ""
    law_factor[local] = PLACE_OTHER
    own = regions == province
    law_factor[own] = PLACE_OWN
    if city:
        cities = np.array([law["city"] for law in searcher.laws], dtype=object)
        law_factor[own & (cities != "") & (cities != city)] = 1.0  # other cities of the same province
        law_factor[cities == city] = PLACE_OWN * 1.25
    return law_factor[searcher.art_law], province, city


def fuse(bm25: np.ndarray, query_vec: np.ndarray | None, searcher: Searcher) -> np.ndarray:
    """Fused scores for the candidates (0 elsewhere). ``bm25`` holds every article's BM25 score.

    Candidates: the BM25 top ``BM25_DEPTH`` plus the dense top ``DENSE_EXTRA`` over all ready
    civil-affairs vectors. A candidate without a vector (the build has not reached it yet) takes
    the ``MISSING_QUANTILE`` similarity of the candidates that have one; with None it keeps its
    BM25 rank in the dense list (the first version: then an unembedded article that BM25 ranks
    high cannot be demoted by the dense list, however unrelated it is).
    """
    store = searcher.dense
    out = np.zeros_like(bm25)
    nz = int(np.count_nonzero(bm25))
    depth = min(BM25_DEPTH, nz)
    if depth:
        top = np.argpartition(-bm25, depth - 1)[:depth] if depth < bm25.size else np.arange(bm25.size)
        top = top[np.argsort(-bm25[top], kind="stable")]
    else:
        top = np.empty(0, dtype=np.int64)
    if query_vec is None or store is None or store.count == 0 or store.vectors is None:
        out[top] = W_BM25 / (RRF_K + np.arange(1, len(top) + 1, dtype=np.float32))
        return out
    count = store.count
    vectors = store.vectors
    # dense-only candidates: the best rows of the civil-affairs block, which the build embeds first
    # (contiguous in the memory map). Scanning every row would read 200 MB per question at full
    # coverage; the rest of the corpus takes part through the BM25 candidates.
    scan = min(count, DENSE_SCAN_ROWS if DENSE_SCAN_ROWS is not None else searcher.dense_scan_rows)
    extra_n = min(DENSE_EXTRA, scan)
    if extra_n > 0:
        positions = store.positions[:scan]
        sims_all = np.asarray(vectors[:scan]) @ query_vec
        sims_all = np.where(searcher.dense_allowed[positions], sims_all, -1.0)
        extra_rows = np.argpartition(-sims_all, extra_n - 1)[:extra_n] if extra_n < scan else np.arange(scan)
        extra = positions[extra_rows[sims_all[extra_rows] > -1.0]]
    else:
        extra = np.empty(0, dtype=np.int64)
    cand = np.concatenate([top, extra[~np.isin(extra, top)]]).astype(np.int64)
    n = len(cand)
    bm_rank = np.full(n, float(depth + 1), dtype=np.float32)
    bm_rank[: len(top)] = np.arange(1, len(top) + 1, dtype=np.float32)
    rows = store.row_of[cand]
    has = rows >= 0
    sims = np.full(n, -np.inf, dtype=np.float32)
    sims[has] = np.asarray(vectors[rows[has]]) @ query_vec
    dense_rank = bm_rank.copy()
    if MISSING_QUANTILE is not None and has.any() and not has.all():
        # a candidate without a vector yet is given a typical similarity (this quantile of the
        # candidates that have one), so it neither keeps its BM25 rank nor drops to the bottom
        sims[~has] = np.quantile(sims[has], MISSING_QUANTILE)
        order = np.argsort(-sims, kind="stable")
        dense_rank[order] = np.arange(1, n + 1, dtype=np.float32)
    elif has.any():
        # dense rank among candidates with vectors; candidates without one keep their BM25 rank
        idx = np.flatnonzero(has)
        order = idx[np.argsort(-sims[idx], kind="stable")]
        # the slots that vector-holding candidates occupy in the BM25 order are re-filled by dense order
        slots = np.sort(bm_rank[idx])
        extra_slots = slots  # dense-only candidates compete for the same slots
        dense_rank[order] = extra_slots
    out[cand] = W_BM25 / (RRF_K + bm_rank) + W_DENSE / (RRF_K + dense_rank)
    return out


_inflight: dict[tuple[int, str], Any] = {}  # embeddings under way: a second request joins the first
_inflight_lock = threading.Lock()


def embed_async(searcher: Searcher, query: str):  # type: ignore[no-untyped-def]
    """Start embedding ``query`` in a worker thread; None when no dense stage is available.
    A request for a question already being embedded waits for that embedding."""
    if searcher.dense is None or searcher.encoder is None or searcher.dense.refresh() == 0:
        return None
    cached = searcher.query_cache.get(query)
    if cached is not None:
        return _Done(cached)
    key = (id(searcher), query)
    with _inflight_lock:
        pending = _inflight.get(key)
        if pending is None:
            pending = _inflight[key] = _pool.submit(_embed, searcher, query, key)
    return pending


def _embed(searcher: Searcher, query: str, key: tuple[int, str]) -> np.ndarray:
    try:
        vec: np.ndarray = searcher.encoder.query(query)
        searcher.query_cache.put(query, vec)
        return vec
    finally:
        with _inflight_lock:
            _inflight.pop(key, None)


class _Done:
    def __init__(self, value: np.ndarray):
        self.value = value

    def result(self, timeout: float | None = None) -> np.ndarray:
        return self.value


def build_article_vectors(searcher: Searcher, encoder=None, limit: int | None = None,  # type: ignore[no-untyped-def]
                          batch: int = 16, progress=None, should_stop=None) -> int:
    """Embed the searcher's articles into its vector directory, most useful laws first (resumable)."""
    from .dense import E5Encoder, build_vectors, passage_text, priority_order

    if searcher.dense is None:
        raise RuntimeError("this searcher was opened without a dense stage")
    enc = encoder or searcher.encoder or E5Encoder()
    home = None
    if searcher.home_region:
        home = (searcher._law_region == searcher.home_region)[searcher.art_law]
    order = priority_order(searcher.art_domain, searcher.art_national,
                           ~searcher.dense_allowed, home)
    # Excluded articles (superseded, interpretations) are never embedded.
    order = order[: int(np.count_nonzero(searcher.dense_allowed))]

    def text(pos: int) -> str:
        law = searcher.laws[int(searcher.art_law[pos])]
        label = f"第{searcher.art_number_cn[pos]}条{searcher.art_suffix[pos]}"
        return passage_text(law["title"], label, searcher.art_chapter[pos], searcher.art_text[pos])

    return build_vectors(searcher.dense.path, searcher.meta.get("built_at") or "", order, text, enc,
                         batch=batch, limit=limit, progress=progress, should_stop=should_stop)

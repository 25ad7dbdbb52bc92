"""Dense vectors (build, resume, memory map, fusion) and place awareness, on the 44-law subset.

A tiny deterministic encoder (character bigrams hashed into 64 dimensions) stands in for the
bundled model so these tests are fast and exact; the real model is exercised by the bench.
"""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from carenet.policy.engine import hybrid
from carenet.policy.engine.dense import VectorStore, priority_order
from carenet.policy.engine.search import Filters, Searcher


class BigramEncoder:
    name = "test-bigrams"
    dim = 64

    def __init__(self):
        self.calls = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for i in range(len(text) - 1):
            v[zlib.crc32(text[i:i + 2].encode()) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def passages(self, texts):
        self.calls += len(texts)
        return np.stack([self._vec(t) for t in texts])


@pytest.fixture
def hybrid_searcher(small_index, tmp_path):
    enc = BigramEncoder()
    s = Searcher(small_index["dir"], vectors_dir=tmp_path / "vectors", encoder=enc)
    return s, enc


def test_priority_order_puts_civil_affairs_first_and_excluded_last():
    domain = np.array([False, True, False, True, False])
    national = np.array([True, False, False, True, False])
    excluded = np.array([False, False, False, False, True])
    order = priority_order(domain, national, excluded).tolist()
    assert order[0] == 3 and order[1] == 1  # national civil-affairs, then local civil-affairs
    assert order[-1] == 4


def test_build_is_partial_resumable_and_search_uses_what_is_ready(hybrid_searcher):
    s, enc = hybrid_searcher
    assert s.dense_status()["ready"] == 0 and not s.dense_status()["active"]
    done = hybrid.build_article_vectors(s, limit=40, batch=16)
    assert done == 40 and enc.calls == 40
    status = s.dense_status()
    assert status["ready"] == 40 and status["active"] and 0 < status["percent"] < 100
    # a second run continues where the first stopped (nothing embedded twice)
    done = hybrid.build_article_vectors(s, limit=30, batch=16)
    assert done == 70 and enc.calls == 70
    # readers memory-map the files: another process's reader sees the same rows
    other = VectorStore(s.dense.path, s.meta["built_at"], len(s.article_ids))
    assert other.refresh() == 70
    assert isinstance(other.vectors, np.memmap)
    # the first rows are the civil-affairs laws' articles
    first = other.positions[:40]
    assert s.art_domain[first].all()


def test_vectors_of_another_index_build_are_ignored(hybrid_searcher):
    s, _ = hybrid_searcher
    hybrid.build_article_vectors(s, limit=16)
    meta_path = s.dense.path / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["index_stamp"] = "another build"
    meta_path.write_text(json.dumps(meta))
    stale = VectorStore(s.dense.path, s.meta["built_at"], len(s.article_ids))
    assert stale.refresh() == 0


def test_fusion_adds_an_article_bm25_does_not_rank(hybrid_searcher):
    s, _ = hybrid_searcher
    hybrid.build_article_vectors(s, batch=64)
    # Text of one article, reworded so jieba tokens barely overlap but character bigrams do.
    target = s.find_article("殡葬管理条例", "第十三条")
    assert target is not None
    bm25_only = Searcher(s.path, dense=False)
    query = "遗体运输技术处理 死亡证明火化"
    before = [h.article_id for h in bm25_only.search(query, k=10)]
    after = [h.article_id for h in s.search(query, k=10)]
    assert target.article_id in after
    assert before != after  # the dense list changed the ranking


def test_named_place_ranks_its_own_law_first(searcher):
    hits = searcher.search("北京的居家养老服务包括哪些内容", k=5)
    assert hits[0].region == "北京"
    hits = searcher.search("青岛的社区养老服务中心提供什么服务", k=5)
    assert hits[0].city == "青岛市"
    # national law still counts when a place is named
    hits = searcher.search("上海老人再婚子女能干涉吗", k=10)
    assert any(h.level == "national" for h in hits)


def test_detect_place():
    cities = {"青岛": "山东", "郑州": "河南"}
    assert hybrid.detect_place("北京的居家养老", cities) == ("北京", None)
    assert hybrid.detect_place("青岛老人补贴", cities) == ("山东", "青岛市")
    assert hybrid.detect_place("沪籍老人", cities) == (None, None)
    assert hybrid.detect_place("沪的老人", cities) == ("上海", None)
    assert hybrid.detect_place("低保多久复查一次", cities) == (None, None)


def test_home_region_comes_before_other_places(small_index):
    home = Searcher(small_index["dir"], home_region="河南", dense=False)
    other = Searcher(small_index["dir"], home_region="山东", dense=False)
    q = "老年人优待"
    assert home.search(q, k=5)[0].region in ("", "河南")
    assert other.search(q, k=5)[0].region in ("", "山东")


def test_dense_only_candidates_come_from_the_scanned_rows(hybrid_searcher, monkeypatch):
    s, _ = hybrid_searcher
    hybrid.build_article_vectors(s, batch=64)
    assert s.dense_scan_rows == int(np.count_nonzero(s.dense_allowed & s.art_domain))
    query = "遗体运输技术处理 死亡证明火化"
    bm25 = s.score(query, Filters())
    qv = s.encoder.query(query)
    for rows in (0, 5):
        monkeypatch.setattr(hybrid, "DENSE_SCAN_ROWS", rows)
        fused = hybrid.fuse(bm25, qv, s)
        dense_only = set(np.flatnonzero((fused > 0) & (bm25 == 0)).tolist())
        assert dense_only <= set(s.dense.positions[:rows].tolist())
    monkeypatch.setattr(hybrid, "DENSE_SCAN_ROWS", None)
    fused = hybrid.fuse(bm25, qv, s)
    scanned = set(s.dense.positions[:s.dense_scan_rows].tolist())
    assert set(np.flatnonzero((fused > 0) & (bm25 == 0)).tolist()) <= scanned


def test_a_candidate_without_a_vector_takes_the_given_quantile(hybrid_searcher, monkeypatch):
    s, _ = hybrid_searcher
    hybrid.build_article_vectors(s, batch=64)
    s.dense.refresh()
    query = "老年人 赡养 精神慰藉"
    bm25 = s.score(query, Filters())
    qv = s.encoder.query(query)
    top = [int(p) for p in np.argsort(-bm25)[:50] if bm25[p] > 0 and s.dense.row_of[p] >= 0]
    missing = top[::2]  # as if the build had not reached every other candidate yet
    assert missing and len(missing) < len(top)
    row_of = s.dense.row_of.copy()
    row_of[missing] = -1
    monkeypatch.setattr(s.dense, "row_of", row_of)
    scores = {}
    for q in (0.0, 1.0):
        monkeypatch.setattr(hybrid, "MISSING_QUANTILE", q)
        scores[q] = hybrid.fuse(bm25, qv, s)
    # ranked as the least similar candidate, then as the most similar one
    assert all(scores[1.0][p] > scores[0.0][p] for p in missing)

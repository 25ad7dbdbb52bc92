"""Ranked article search over a saved index.

Scoring, per article::

    score = Σ_token weight(token) · BM25(token, article)              (bm25s matrix)
          + TITLE_WEIGHT · Σ_token weight(token) · BM25(token, law title)
    then  × NATIONAL_PRIOR for national law (unless a region filter is set)
          × coverage bonus for articles that contain most of the typed words
          + a direct hit when the query names an article number (第十四条)

Superseded versions are excluded unless ``include_superseded=True``, in which
case they are down-ranked (× SUPERSEDED_PENALTY).

A Searcher is read-only once loaded and safe to share between threads.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import hybrid
from .dense import E5Encoder, Encoder, QueryCache, VectorStore, encoder_available
from .domain import is_civil_affairs
from .highlight import mark, snippet
from .index import default_index_dir
from .numerals import CHINESE_NUMERAL_CHARS, cn_to_int
from .tokenizer import clear_query_cache, expand_query, highlight_terms, query_bigrams, tokenize

TITLE_WEIGHT = 0.0
# National law applies everywhere; local law only in its own province. Local
# law of the deployment's own province (home_region) is not penalised.
NATIONAL_PRIOR = 2.0
DOMAIN_PRIOR = 1.6
SUPERSEDED_PENALTY = 0.5
# The Supreme People's Court's interpretations (category 司法解释) are addressed to
# judges and restate or refine a statute; for an elder's question the statute is the
# answer to show first. Their titles name the statute (…《民法典》…的解释), so without
# this they also collect the domain prior and crowd out the articles they interpret.
JUDICIAL_INTERPRETATION_PRIOR = 0.6
COVERAGE_BONUS = 0.25
_RRF_K = 60  # reciprocal rank fusion constant (hybrid.RRF_K, qa.with_pair_evidence)
RERANK_DEPTH = 100
BIGRAM_RERANK = 0.5
ARTICLE_REF_RE = re.compile(r"第([" + CHINESE_NUMERAL_CHARS + r"\d]+)条")


class IndexNotFound(FileNotFoundError):
    """The index directory does not exist or is incomplete."""


@dataclass
class Hit:
    article_id: str
    law_key: str
    law_title: str
    law_part: str
    article_label: str
    article_number: int
    chapter: str
    version_date: str | None
    category: str
    level: str
    region: str
    city: str
    superseded: bool
    score: float
    snippet_html: str
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Filters:
    category: str | None = None
    level: str | None = None       # "national" | "local"
    region: str | None = None      # province, e.g. "上海"
    include_superseded: bool = False
    home_region: str | None = None  # ranks this province's local law like national law


class _Matrix:
    """The BM25 scores of a bm25s index as a CSC matrix (token -> postings)."""

    def __init__(self, path: Path):
        import bm25s

        r = bm25s.BM25.load(str(path), load_corpus=False, mmap=False)
        self.data = np.asarray(r.scores["data"], dtype=np.float32)
        self.indices = np.asarray(r.scores["indices"], dtype=np.int64)
        self.indptr = np.asarray(r.scores["indptr"], dtype=np.int64)
        self.num_docs = int(r.scores["num_docs"])
        self.vocab: dict[str, int] = r.vocab_dict

    def scores(self, weighted: list[tuple[str, float]]) -> np.ndarray:
        out = np.zeros(self.num_docs, dtype=np.float32)
        for token, w in weighted:
            tid = self.vocab.get(token)
            if tid is None:
                continue
            s, e = self.indptr[tid], self.indptr[tid + 1]
            out[self.indices[s:e]] += w * self.data[s:e]
        return out

    def postings(self, token: str) -> np.ndarray:
        tid = self.vocab.get(token)
        if tid is None:
            return np.empty(0, dtype=np.int64)
        return self.indices[self.indptr[tid]:self.indptr[tid + 1]]

    def doc_freq(self, token: str) -> int:
        tid = self.vocab.get(token)
        return 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid])


class Searcher:
    def __init__(self, index_dir: str | Path | None = None, home_region: str | None = None,
                 vectors_dir: str | Path | None = None, dense: bool = True, encoder: Encoder | None = None):
        t0 = time.perf_counter()
        self.home_region = home_region or None
        self.path = Path(index_dir) if index_dir else default_index_dir()
        if not (self.path / "meta.json").exists():
            raise IndexNotFound(str(self.path))
        with open(self.path / "meta.json", encoding="utf-8") as fh:
            self.meta = json.load(fh)
        with open(self.path / "laws.json", encoding="utf-8") as fh:
            self.laws: list[dict] = json.load(fh)
        with open(self.path / "articles.json", encoding="utf-8") as fh:
            cols = json.load(fh)
        self.article_ids: list[str] = cols["article_id"]
        self.art_law = np.asarray(cols["law"], dtype=np.int32)
        self.art_number: list[int] = cols["number"]
        self.art_number_cn: list[str] = cols["number_cn"]
        self.art_suffix: list[str] = cols["suffix"]
        self.art_chapter: list[str] = cols["chapter"]
        self.art_text: list[str] = cols["text"]
        self.id_pos = {aid: i for i, aid in enumerate(self.article_ids)}
        self.content = _Matrix(self.path / "content")
        self.titles = _Matrix(self.path / "titles")

        n_laws = len(self.laws)
        law_national = np.array([law["level"] == "national" for law in self.laws], dtype=bool)
        law_superseded = np.array([bool(law["superseded"]) for law in self.laws], dtype=bool)
        law_domain = np.array([is_civil_affairs(law["title"]) for law in self.laws], dtype=bool)
        self.art_domain = law_domain[self.art_law] if n_laws else np.zeros(0, bool)
        self.art_national = law_national[self.art_law] if n_laws else np.zeros(0, bool)
        self._law_region = np.array([law["region"] for law in self.laws], dtype=object)
        self.art_superseded = law_superseded[self.art_law] if n_laws else np.zeros(0, bool)
        law_interp = np.array([law["category"] == "司法解释" for law in self.laws], dtype=bool)
        self.art_interpretation = law_interp[self.art_law] if n_laws else np.zeros(0, bool)
        self._law_title_pos: dict[str, list[int]] = {}
        for i, law in enumerate(self.laws):
            self._law_title_pos.setdefault(law["norm_title"], []).append(i)
        # first article position of each law (articles are stored law by law)
        self.law_first = np.full(n_laws + 1, len(self.article_ids), dtype=np.int64)
        for pos in range(len(self.article_ids) - 1, -1, -1):
            self.law_first[self.art_law[pos]] = pos
        # cities whose local laws the corpus holds: "青岛" -> "山东"
        self.city_province: dict[str, str] = {
            law["city"].removesuffix("市"): law["region"] for law in self.laws if law["city"] and law["region"]}
        # Dense stage: vectors next to the index (var/policy_vectors), memory-mapped, maybe partial.
        self.dense: VectorStore | None = None
        self.encoder: Encoder | None = None
        self.query_cache = QueryCache()
        self.dense_allowed = ~(self.art_superseded | self.art_interpretation)
        # the civil-affairs articles come first in the vector build order; only their rows are
        # scanned for dense-only candidates (hybrid.fuse), so a query reads ~10 MB, not 200 MB
        self.dense_scan_rows = int(np.count_nonzero(self.dense_allowed & self.art_domain))
        if dense:
            vdir = Path(vectors_dir) if vectors_dir else self.path.with_name(self.path.name.replace("index", "vectors"))
            self.dense = VectorStore(vdir, self.meta.get("built_at"), len(self.article_ids))
            self.dense.refresh()
            if encoder is not None:
                self.encoder = encoder
            elif encoder_available():
                self.encoder = E5Encoder()
            # One BLAS thread: fusion's matrix-vector products are small, and OpenBLAS's default
            # worker per core spins after each of them, on the core the question's embedding needs
            # (2026-12-07, load 2: ask() took 68 ms of CPU per question with two BLAS threads, 32 ms
            # with one; the products are the same, see docs/policy-search.md).
            from .e5np import set_blas_threads

            set_blas_threads(1)
        self.load_seconds = time.perf_counter() - t0

    def dense_status(self) -> dict:
        """How much of the corpus the dense stage covers now (shown on the staff page)."""
        ready = self.dense.refresh() if self.dense is not None else 0
        total = int(np.count_nonzero(self.dense_allowed))
        return {"ready": ready, "total": total, "active": bool(ready and self.encoder is not None),
                "percent": round(100.0 * min(ready, total) / total, 1) if total else 0.0}

    def warm_up(self) -> None:
        """Touch everything the first query needs (jieba, numpy pages, the embedder)."""
        self.search("老年人 低保 申请", k=3)
        # the embedder is loaded only when there are vectors to compare with (never on a machine
        # that has not built any, e.g. one without AVX2)
        if self.encoder is not None and self.dense is not None and self.dense.refresh() > 0:
            self.encoder.query("热身")

    # ---------------------------------------------------------------- facets
    def facets(self) -> dict:
        cats: dict[str, int] = {}
        regions: dict[str, int] = {}
        for law in self.laws:
            if law["superseded"]:
                continue
            cats[law["category"]] = cats.get(law["category"], 0) + 1
            if law["region"]:
                regions[law["region"]] = regions.get(law["region"], 0) + 1
        return {
            "categories": sorted(cats.items(), key=lambda kv: -kv[1]),
            "regions": sorted(regions.items(), key=lambda kv: -kv[1]),
            "levels": ["national", "local"],
        }

    def _law_mask(self, filters: Filters) -> np.ndarray | None:
        if not (filters.category or filters.level or filters.region):
            return None
        ok = np.ones(len(self.laws), dtype=bool)
        for i, law in enumerate(self.laws):
            if filters.category and law["category"] != filters.category:
                ok[i] = False
            elif filters.level and law["level"] != filters.level:
                ok[i] = False
            elif filters.region and law["region"] != filters.region:
                ok[i] = False
        return ok

    # ---------------------------------------------------------------- search
    def score(self, query: str, filters: Filters | None = None) -> np.ndarray:
        """Scores of every article for ``query`` (0 = no match / filtered out)."""
        filters = filters or Filters()
        weighted = expand_query(query)
        scores = self.content.scores(weighted)
        if not scores.size:
            return scores
        matched = scores > 0

        # Title relevance, spread to the articles of each law that match at all. With TITLE_WEIGHT 0
        # the title scores serve only a question that names an article number (below).
        refs = list(ARTICLE_REF_RE.finditer(query))
        if TITLE_WEIGHT or refs:
            title_scores = self.titles.scores(weighted)
        else:
            title_scores = np.zeros(0, dtype=np.float32)
        if TITLE_WEIGHT and title_scores.any():
            scores += TITLE_WEIGHT * title_scores[self.art_law] * matched

        # Coverage: share of the typed (weight 1.0) tokens the article contains.
        own = [t for t, w in weighted if w >= 1.0 and self.content.doc_freq(t)]
        if len(own) >= 2:
            hits = np.zeros(scores.shape[0], dtype=np.float32)
            for t in own:
                hits[self.content.postings(t)] += 1.0
            scores *= 1.0 + COVERAGE_BONUS * (hits / len(own))

        # A query that names a law and an article number ("老年人权益保障法第十四条").
        for m in refs:
            raw = m.group(1)
            try:
                num = int(raw) if raw.isdigit() else cn_to_int(raw)
            except ValueError:
                continue
            if title_scores.any():
                best_laws = np.flatnonzero(title_scores >= title_scores.max() * 0.8)
                for li in best_laws:
                    for pos in self._law_positions(int(li)):
                        if self.art_number[pos] == num:
                            scores[pos] += float(scores.max()) + 1.0

        scores[self.art_domain] *= DOMAIN_PRIOR
        scores[self.art_interpretation] *= JUDICIAL_INTERPRETATION_PRIOR
        if not filters.region:
            preferred = self.art_national
            home = filters.home_region or self.home_region
            if home:
                preferred = preferred | (self._law_region == home)[self.art_law]
            scores[preferred] *= NATIONAL_PRIOR
        if filters.include_superseded:
            scores[self.art_superseded] *= SUPERSEDED_PENALTY
        else:
            scores[self.art_superseded] = 0.0
        mask = self._law_mask(filters)
        if mask is not None:
            scores[~mask[self.art_law]] = 0.0
        return scores

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               offset: int = 0, snippet_width: int = 160) -> list[Hit]:
        return self.search_page(query, k, filters, offset, snippet_width)[0]

    def search_page(self, query: str, k: int = 10, filters: Filters | None = None,
                    offset: int = 0, snippet_width: int = 160,
                    snippets: int | None = None) -> tuple[list[Hit], int]:
        """Hits ``offset``..``offset+k`` and the number of matching articles. With ``snippets``
        only the first that many hits get their snippet now (``fill_snippets`` does the rest)."""
        query = (query or "").strip()[:200]
        if not query:
            return [], 0
        filters = filters or Filters()
        pending = hybrid.embed_async(self, query)  # joins an embedding prefetch() started
        scores = self.score(query, filters)
        if RERANK_DEPTH and BIGRAM_RERANK:
            self._rerank(query, scores, max(RERANK_DEPTH, k + offset))
        if pending is not None:
            scores = hybrid.fuse(scores, pending.result(), self)
            scores[self._ineligible(filters)] = 0.0
        if not filters.region:
            factors, _, _ = hybrid.place_factors(self, query)
            if factors is not None:
                scores *= factors
        total = int(np.count_nonzero(scores))
        top = _top_k(scores, k + offset)[offset:]
        terms = highlight_terms(query)
        n_snip = len(top) if snippets is None else snippets
        return [self._hit(int(pos), float(scores[pos]), terms, snippet_width if i < n_snip else 0)
                for i, pos in enumerate(top)], total

    def fill_snippets(self, hits: list[Hit], query: str, width: int = 160) -> None:
        """The snippets ``search_page(snippets=…)`` left out, for the hits that are shown."""
        missing = [h for h in hits if not h.snippet_html and h.text]
        if missing:
            terms = highlight_terms((query or "").strip()[:200])
            for h in missing:
                h.snippet_html = snippet(h.text, terms, width) if terms else mark(h.text[:width], [])

    def clear_caches(self) -> None:
        """Forget cached question vectors and tokens (the latency bench times new questions)."""
        self.query_cache.clear()
        clear_query_cache()

    def prefetch(self, query: str) -> None:
        """Start embedding ``query`` now (ask() does, before it matches the Q&A pairs); the
        search that follows waits for that embedding instead of starting another."""
        query = (query or "").strip()[:200]
        if query:
            hybrid.embed_async(self, query)

    def _ineligible(self, filters: Filters) -> np.ndarray:
        bad = self.art_superseded.copy() if not filters.include_superseded else np.zeros_like(self.art_superseded)
        mask = self._law_mask(filters)
        if mask is not None:
            bad |= ~mask[self.art_law]
        return bad

    def _rerank(self, query: str, scores: np.ndarray, depth: int) -> None:
        """Re-score the best ``depth`` articles by how many of the question's
        character bigrams they contain (in place). Bigrams are robust to the
        segmentation differences between colloquial questions and legal text."""
        grams = query_bigrams(query)
        if len(grams) < 2:
            return
        top = _top_k(scores, depth)
        for pos in top:
            text = self.art_text[pos]
            found = sum(1 for g in grams if g in text)
            scores[pos] *= 1.0 + BIGRAM_RERANK * found / len(grams)

    # ------------------------------------------------------------- articles
    def _law_positions(self, law_idx: int) -> range:
        start = int(self.law_first[law_idx])
        end = start
        n = len(self.article_ids)
        while end < n and self.art_law[end] == law_idx:
            end += 1
        return range(start, end)

    def _hit(self, pos: int, score: float, terms: list[str], width: int = 160) -> Hit:
        law = self.laws[int(self.art_law[pos])]
        text = self.art_text[pos]
        return Hit(
            article_id=self.article_ids[pos], law_key=law["law_key"], law_title=law["title"],
            law_part=law["part"],
            article_label=f"第{self.art_number_cn[pos]}条{self.art_suffix[pos]}",
            article_number=self.art_number[pos], chapter=self.art_chapter[pos],
            version_date=law["effective_date"], category=law["category"], level=law["level"],
            region=law["region"], city=law["city"], superseded=bool(law["superseded"]),
            score=round(score, 4),
            snippet_html=("" if width <= 0 else snippet(text, terms, width) if terms else mark(text[:width], [])),
            text=text,
        )

    def get(self, article_id: str, query: str = "") -> Hit | None:
        pos = self.id_pos.get(article_id)
        if pos is None:
            return None
        terms = highlight_terms(query) if query else []
        hit = self._hit(pos, 0.0, terms, width=100000)
        if terms:
            hit.snippet_html = mark(hit.text, terms)
        return hit

    def law(self, law_key: str) -> dict | None:
        for law in self.laws:
            if law["law_key"] == law_key:
                return law
        return None

    def find_article(self, law_title: str, article_label: str, *,
                     include_superseded: bool = False) -> Hit | None:
        """Resolve a citation such as ("中华人民共和国老年人权益保障法", "第十四条")."""
        from .corpus import normalise_title

        m = re.fullmatch(r"第([" + CHINESE_NUMERAL_CHARS + r"]+)条(之[一二三四五六七八九十]+)?", article_label.strip())
        if not m:
            return None
        number, suffix = cn_to_int(m.group(1)), m.group(2) or ""
        for li in self._law_title_pos.get(normalise_title(law_title), []):
            if self.laws[li]["superseded"] and not include_superseded:
                continue
            for pos in self._law_positions(li):
                if self.art_number[pos] == number and self.art_suffix[pos] == suffix:
                    return self._hit(pos, 0.0, [], 100000)
        return None

    def related_articles(self, article_id: str, neighbours: int = 2, k: int = 5) -> dict:
        """Neighbouring articles in the same law, and similar articles in other laws."""
        pos = self.id_pos.get(article_id)
        if pos is None:
            return {"neighbours": [], "similar": []}
        law_idx = int(self.art_law[pos])
        positions = self._law_positions(law_idx)
        near = [p for p in range(max(positions.start, pos - neighbours),
                                 min(positions.stop, pos + neighbours + 1)) if p != pos]
        # Similar: the article's most distinctive tokens as a query.
        tokens = tokenize(self.art_text[pos])
        uniq = {}
        for t in tokens:
            df = self.content.doc_freq(t)
            if df and len(t) >= 2:
                uniq[t] = df
        n = max(self.content.num_docs, 1)
        ranked = sorted(uniq, key=lambda t: uniq[t])  # rarest first
        chosen = [t for t in ranked if uniq[t] < n * 0.2][:12]
        scores = self.content.scores([(t, 1.0) for t in chosen])
        scores[self.art_superseded] = 0.0
        own_title = self.laws[law_idx]["norm_title"]
        for li in self._law_title_pos.get(own_title, []):
            r = self._law_positions(li)
            scores[r.start:r.stop] = 0.0
        top = _top_k(scores, k)
        return {
            "neighbours": [self._hit(p, 0.0, [], 160) for p in near],
            "similar": [self._hit(int(p), float(scores[p]), chosen, 160) for p in top],
        }


def _top_k(scores: np.ndarray, k: int) -> list[int]:
    if k <= 0 or not scores.size:
        return []
    nz = int(np.count_nonzero(scores))
    k = min(k, nz)
    if k == 0:
        return []
    if k < scores.size:
        part = np.argpartition(-scores, k - 1)[:k]
    else:
        part = np.arange(scores.size)
    return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]

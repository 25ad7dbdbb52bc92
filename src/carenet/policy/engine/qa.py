"""Curated question-answer matching, with fallback to article search.

A user question is compared with every curated question using TF-IDF cosine
similarity over two kinds of features:

* word tokens from jieba, plus the legal words that query expansion adds
  (so 低保 and 最低生活保障 meet);
* character bigrams, which tolerate word-segmentation differences and typos.

If the best curated question scores at least ``threshold`` its answer is
shown first, followed by the article search results. Otherwise only the
search results are shown.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .compose import Composed, Quote, compose
from .tokenizer import expand_query

if TYPE_CHECKING:  # pragma: no cover
    from .search import Filters, Searcher

DEFAULT_THRESHOLD = 0.36
# Pair evidence: the articles cited by the PAIR_EVIDENCE most similar pairs re-rank the first
# PAIR_DEPTH search hits (see with_pair_evidence).
PAIR_EVIDENCE = 8
PAIR_DEPTH = 30
PAIR_WEIGHT = 1.0
PAIR_MIN_SIMILARITY = 0.25
# A generated pair about another place ("在上海市，…") when the question names no place.
LOCAL_PAIR_FACTOR = 0.8
STARTER_PATH = Path(__file__).resolve().parent.parent / "data" / "qa_starter.json"
_CJK = re.compile(r"[\u4e00-\u9fff]+")
# Characters too common in questions to make useful bigrams on their own.
_FILLER = set("的了吗呢吧啊么我你他她它们是在有没要会能可以怎什哪谁这那个些就都还也么")


def load_starter(path: str | Path | None = None) -> list[dict]:
    with open(path or STARTER_PATH, encoding="utf-8") as fh:
        data: list[dict] = json.load(fh)
        return data


def _features(text: str) -> Counter:
    feats: Counter = Counter()  # float weights: typeshed types Counter values as int
    for token, weight in expand_query(text):
        feats["w:" + token] += weight  # type: ignore[assignment]
    for run in _CJK.findall(text):
        for i in range(len(run) - 1):
            bg = run[i:i + 2]
            if bg[0] in _FILLER and bg[1] in _FILLER:
                continue
            feats["b:" + bg] += 0.5  # type: ignore[assignment]
    return feats


@dataclass
class QAMatch:
    pair: dict
    score: float


@dataclass
class Answer:
    query: str
    qa: QAMatch | None
    hits: list = field(default_factory=list)
    alternatives: list[QAMatch] = field(default_factory=list)
    composed: Composed | None = None

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "composed": self.composed.to_dict() if self.composed else None,
            "qa": ({**self.qa.pair, "score": round(self.qa.score, 3)} if self.qa else None),
            "alternatives": [{**m.pair, "score": round(m.score, 3)} for m in self.alternatives],
            "hits": [h.to_dict() for h in self.hits],
        }


class QAMatcher:
    """Similarity search over curated questions. Immutable after construction."""

    def __init__(self, pairs: Iterable[dict], threshold: float = DEFAULT_THRESHOLD):
        self.pairs = list(pairs)
        self.threshold = threshold
        docs = [_features(p["question"]) for p in self.pairs]
        df: Counter = Counter()
        for d in docs:
            df.update(d.keys())
        n = max(len(docs), 1)
        self.idf = {f: math.log((n + 1) / (c + 0.5)) + 1.0 for f, c in df.items()}
        self.default_idf = math.log((n + 1) / 0.5) + 1.0
        self.vectors = [self._weigh(d) for d in docs]
        self.postings: dict[str, list[int]] = {}
        for i, v in enumerate(self.vectors):
            for f in v:
                self.postings.setdefault(f, []).append(i)

    def _weigh(self, feats: Counter) -> dict[str, float]:
        vec = {f: w * self.idf.get(f, self.default_idf) for f, w in feats.items()}
        norm = math.sqrt(sum(x * x for x in vec.values())) or 1.0
        return {f: x / norm for f, x in vec.items()}

    def match(self, query: str, k: int = 3) -> list[QAMatch]:
        """The k most similar curated questions, best first (no threshold applied)."""
        q = self._weigh(_features(query))
        scores: dict[int, float] = {}
        for f, w in q.items():
            for i in self.postings.get(f, ()):
                scores[i] = scores.get(i, 0.0) + w * self.vectors[i][f]
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
        return [QAMatch(self.pairs[i], s) for i, s in best]

    def match_placed(self, query: str, k: int = 3) -> list[QAMatch]:
        """``match``, with pairs about a named place ("在上海市，…") down-weighted when the
        question does not name that place (a question without a place wants the national rule)."""
        found = self.match(query, k=k + 4)
        for m in found:
            q = m.pair.get("question", "")
            if q.startswith("在") and "，" in q[:10]:
                place = q[1:q.index("，")].removesuffix("市").removesuffix("省")
                if place and place not in query:
                    m.score *= LOCAL_PAIR_FACTOR
        found.sort(key=lambda m: -m.score)
        return found[:k]

    def best(self, query: str) -> QAMatch | None:
        found = self.match_placed(query, k=1)
        if found and found[0].score >= self.threshold:
            return found[0]
        return None


def ask(query: str, searcher: "Searcher | None", matcher: QAMatcher | None, k: int = 10,
        filters: "Filters | None" = None) -> Answer:
    """Curated answer first (if one matches well enough), then article search."""
    query = (query or "").strip()
    answer = Answer(query=query, qa=None)
    if not query:
        return answer
    found: list[QAMatch] = []
    if searcher is not None:
        searcher.prefetch(query)  # the question is embedded while the Q&A pairs are matched
    if matcher is not None and matcher.pairs:
        found = matcher.match_placed(query, k=PAIR_EVIDENCE)
        if found and found[0].score >= matcher.threshold:
            answer.qa = found[0]
            answer.alternatives = [m for m in found[1:3] if m.score >= matcher.threshold * 0.9]
    if searcher is not None:
        # snippets only for the hits shown (pair evidence may move a deeper hit up; filled below)
        hits = searcher.search_page(query, k=max(k, PAIR_DEPTH), filters=filters, snippets=k)[0]
        if found and PAIR_WEIGHT and not (filters and (filters.category or filters.level or filters.region)):
            hits = with_pair_evidence(searcher, hits, found)
        answer.composed = compose_answer(query, searcher, answer.qa, hits)
        answer.hits = hits[:k]
        searcher.fill_snippets(answer.hits, query)
    return answer


def with_pair_evidence(searcher: "Searcher", hits: list, found: list[QAMatch]) -> list:
    """Re-rank search hits with the articles that the most similar Q&A pairs cite.

    The pairs are questions people (or the generator) asked about an article, so matching the
    question against them finds articles whose own wording differs from the question
    (doc2query-style expansion). Reciprocal rank fusion of the two lists; pairs below
    PAIR_MIN_SIMILARITY are ignored.
    """
    from .search import _RRF_K

    by_id = {h.article_id: h for h in hits}
    score = {h.article_id: 1.0 / (_RRF_K + r) for r, h in enumerate(hits, 1)}
    rank = 0
    for m in found:
        if m.score < PAIR_MIN_SIMILARITY:
            break
        for c in m.pair.get("citations", [])[:2]:
            hit = by_id.get(c.get("article_id", "")) or searcher.find_article(c["law"], c["article"])
            if hit is None:
                continue
            rank += 1
            by_id.setdefault(hit.article_id, hit)
            score[hit.article_id] = score.get(hit.article_id, 0.0) + PAIR_WEIGHT / (_RRF_K + rank)
    return sorted(by_id.values(), key=lambda h: -score[h.article_id])


def compose_answer(query: str, searcher: "Searcher", qa: QAMatch | None, hits: list) -> Composed:
    """The answer card: the sentence that states what was asked, from the curated answer's cited
    articles first, then the best search hits."""
    sources: list[Quote] = []
    if qa is not None:
        for c in qa.pair.get("citations", []):
            hit = searcher.find_article(c["law"], c["article"])
            if hit is not None:
                sources.append(Quote(hit.law_title, hit.article_label, hit.article_id, hit.text))
    trusted = len(sources)
    seen = {q.article_id for q in sources}
    sources += [Quote(h.law_title, h.article_label, h.article_id, h.text) for h in hits[:10] if h.article_id not in seen]
    return compose(query, sources, qa.pair.get("answer", "") if qa else "", trusted=trusted)

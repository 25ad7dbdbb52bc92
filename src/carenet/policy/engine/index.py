"""Build, save and load the policy search index.

Layout of an index directory::

    meta.json       build facts (corpus, counts, timings, format version)
    laws.json       one record per law (see corpus.Law)
    articles.json   column arrays for the articles (id, law index, number, chapter, text)
    content/        bm25s index over article text (chapter heading + body)
    titles/         bm25s index over law titles (+ 编 name for 民法典)

Tokenising 147k articles with jieba is the slow step; it runs in a process
pool (one worker per core by default).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from .corpus import Corpus, load_corpus
from .tokenizer import tokenize

FORMAT_VERSION = 1
ProgressCallback = Callable[[str, int, int], None]


def default_index_dir() -> Path:
    """var/policy_index under the repository root (override with CARENET_POLICY_INDEX)."""
    env = os.environ.get("CARENET_POLICY_INDEX")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4] / "var" / "policy_index"


def article_index_text(chapter: str, text: str) -> str:
    return f"{chapter}\n{text}" if chapter else text


def _tokenize_chunk(texts: list[str]) -> list[list[str]]:
    return [tokenize(t) for t in texts]


def tokenize_many(texts: list[str], workers: int | None = None, chunk: int = 2000,
                  progress: ProgressCallback | None = None, stage: str = "tokenize") -> list[list[str]]:
    total = len(texts)
    chunks = [texts[i:i + chunk] for i in range(0, total, chunk)]
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    out: list[list[str]] = []
    if progress:
        progress(stage, 0, total)
    if workers <= 1 or len(chunks) <= 1:
        for c in chunks:
            out.extend(_tokenize_chunk(c))
            if progress:
                progress(stage, len(out), total)
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(_tokenize_chunk, chunks):
            out.extend(result)
            if progress:
                progress(stage, len(out), total)
    return out


# k1 0.9 (bm25s default 1.5, first build 1.2): term frequency saturates sooner, so an
# article that repeats one question word (赡养 four times) does not outrank one that
# contains more of the question's distinct words. Measured on the tuning sets:
# mean hit@5 0.798 -> 0.826 (k1 0.7: 0.811, 1.6: 0.789; b 0.5-0.6 within ±0.01).
BM25_K1 = 0.9
BM25_B = 0.75


def _bm25(tokens: list[list[str]], k1: float = BM25_K1, b: float = BM25_B) -> Any:
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)

    retriever = bm25s.BM25(k1=k1, b=b)
    # bm25s cannot index an empty document list entry; keep a placeholder token.
    retriever.index([t or ["\u2205"] for t in tokens], show_progress=False)
    return retriever


def build_index(corpus_path: str | Path, out_dir: str | Path | None = None, *,
                titles: list[str] | None = None, workers: int | None = None,
                progress: ProgressCallback | None = None,
                k1: float = BM25_K1, b: float = BM25_B) -> dict:
    """Parse the corpus, tokenise, index and save. Returns the build facts (meta.json)."""
    t0 = time.perf_counter()
    out = Path(out_dir) if out_dir else default_index_dir()
    timings: dict[str, float] = {}

    if progress:
        progress("parse", 0, 1)
    corpus: Corpus = load_corpus(corpus_path, titles=titles)
    timings["parse_s"] = time.perf_counter() - t0
    if progress:
        progress("parse", 1, 1)

    law_pos = {law.law_key: i for i, law in enumerate(corpus.laws)}
    texts = [article_index_text(a.chapter, a.text) for a in corpus.articles]
    t1 = time.perf_counter()
    content_tokens = tokenize_many(texts, workers=workers, progress=progress)
    title_tokens = [tokenize(f"{law.title} {law.part}") for law in corpus.laws]
    timings["tokenize_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    if progress:
        progress("index", 0, 2)
    content = _bm25(content_tokens, k1=k1, b=b)
    if progress:
        progress("index", 1, 2)
    title_index = _bm25(title_tokens)
    if progress:
        progress("index", 2, 2)
    timings["bm25_s"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    content.save(str(tmp / "content"), show_progress=False)
    title_index.save(str(tmp / "titles"), show_progress=False)
    with open(tmp / "laws.json", "w", encoding="utf-8") as fh:
        json.dump([law.to_dict() for law in corpus.laws], fh, ensure_ascii=False)
    arts = corpus.articles
    columns = {
        "article_id": [a.article_id for a in arts],
        "law": [law_pos[a.law_key] for a in arts],
        "number": [a.number for a in arts],
        "number_cn": [a.number_cn for a in arts],
        "suffix": [a.suffix for a in arts],
        "chapter": [a.chapter for a in arts],
        "text": [a.text for a in arts],
    }
    with open(tmp / "articles.json", "w", encoding="utf-8") as fh:
        json.dump(columns, fh, ensure_ascii=False)
    timings["save_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0

    meta = {
        "format_version": FORMAT_VERSION,
        "corpus": str(corpus_path),
        "laws": len(corpus.laws),
        "superseded_laws": sum(1 for law in corpus.laws if law.superseded),
        "articles": len(arts),
        "vocabulary": len(content.vocab_dict) if hasattr(content, "vocab_dict") else None,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "workers": workers if workers is not None else min(os.cpu_count() or 1, 4),
        "bm25": {"k1": k1, "b": b},
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    with open(tmp / "meta.json", "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=2)
    # Swap in atomically-ish so a running server never sees half an index.
    if out.exists():
        old = out.with_name(out.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(out)
    meta["size_bytes"] = dir_size(out)
    return meta


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


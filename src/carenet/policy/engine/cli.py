"""Command line for the policy engine (no Django needed).

    python -m carenet.policy.engine.cli build [--corpus PATH] [--out DIR] [--workers N]
    python -m carenet.policy.engine.cli search "低保申请要多久批下来" [-k 5] [--region 上海]
    python -m carenet.policy.engine.cli ask "80岁以上有什么补贴"

(run with PYTHONPATH=src, or through Django: manage.py build_policy_index)
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from .corpus import default_corpus_path
from .index import build_index, default_index_dir


class ProgressBar:
    """A plain-text progress bar that works in a terminal and in logs."""

    def __init__(self, stream: Any = None, width: int = 30) -> None:
        self.stream = stream or sys.stdout
        self.width = width
        self.stage: str | None = None
        self.t0 = time.perf_counter()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_pct = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.stage is not None and self.tty:
                self.stream.write("\n")
            self.stage = stage
            self._last_pct = -1
        pct = int(100 * done / total) if total else 100
        if not self.tty and pct != 100 and pct - self._last_pct < 10:
            return
        self._last_pct = pct
        filled = int(self.width * pct / 100)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{stage:<9} [{bar}] {pct:3d}% {done}/{total}  {time.perf_counter() - self.t0:6.1f}s"
        if self.tty:
            self.stream.write("\r" + line)
            if done >= total:
                self.stream.write("\n")
                self.stage = None
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def format_build_report(meta: dict) -> str:
    t = meta["timings"]
    return (
        f"indexed {meta['articles']} articles from {meta['laws']} laws "
        f"({meta['superseded_laws']} superseded versions) in {t['total_s']} s "
        f"(parse {t['parse_s']} s, tokenize {t['tokenize_s']} s, bm25 {t['bm25_s']} s, save {t['save_s']} s; "
        f"{meta['workers']} workers); index size {meta.get('size_bytes', 0) / 1e6:.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="policy")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--corpus", default=None)
    b.add_argument("--out", default=None)
    b.add_argument("--workers", type=int, default=None)
    v = sub.add_parser("vectors", help="embed articles for the dense stage (resumable, most useful laws first)")
    v.add_argument("--index", default=None)
    v.add_argument("--limit", type=int, default=None)
    v.add_argument("--batch", type=int, default=32)
    v.add_argument("--workers", type=int, default=1, help="embedding processes (one BLAS thread each)")
    v.add_argument("--backend", choices=["numpy", "c"], default=None)
    v.add_argument("--home-region", default=None)
    for name in ("search", "ask"):
        p = sub.add_parser(name)
        p.add_argument("query")
        p.add_argument("-k", type=int, default=5)
        p.add_argument("--index", default=None)
        p.add_argument("--category", default=None)
        p.add_argument("--level", choices=["national", "local"], default=None)
        p.add_argument("--region", default=None)
    args = ap.parse_args(argv)

    if args.cmd == "build":
        out = args.out or default_index_dir()
        corpus = args.corpus or default_corpus_path()
        print(f"building policy index from {corpus} into {out}")
        meta = build_index(corpus, out, workers=args.workers, progress=ProgressBar())
        print(format_build_report(meta))
        return 0

    from .qa import QAMatcher, ask, load_starter
    from .search import Filters, Searcher

    if args.cmd == "vectors":
        from .dense import PooledE5Encoder
        from .hybrid import build_article_vectors

        s = Searcher(args.index, home_region=args.home_region)
        t0 = time.perf_counter()
        start = s.dense_status()["ready"]
        last = [t0]

        def report(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 10 or done == total:
                print(f"vectors {done}/{total} ({(done - start) / max(now - t0, 1e-6):.1f} articles/s)", flush=True)
                last[0] = now

        # a plain `kill` (SIGTERM) unwinds like Ctrl-C, so the worker processes are stopped too
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        enc = PooledE5Encoder(workers=args.workers, backend=args.backend)
        try:
            done = build_article_vectors(s, encoder=enc, limit=args.limit, batch=args.batch, progress=report)
        finally:
            enc.close()
        print(f"vectors ready: {done} ({time.perf_counter() - t0:.1f} s)")
        return 0

    searcher = Searcher(args.index)
    filters = Filters(category=args.category, level=args.level, region=args.region)
    matcher = QAMatcher(load_starter()) if args.cmd == "ask" else None
    t = time.perf_counter()
    answer = ask(args.query, searcher, matcher, k=args.k, filters=filters)
    ms = (time.perf_counter() - t) * 1000
    if answer.qa:
        print(f"[curated answer, similarity {answer.qa.score:.2f}] {answer.qa.pair['question']}")
        print("  " + answer.qa.pair["answer"])
        print("  依据: " + "；".join(f"《{c['law']}》{c['article']}" for c in answer.qa.pair["citations"]))
    for h in answer.hits:
        print(f"{h.score:7.2f}  {h.law_title}{(' ' + h.law_part) if h.law_part else ''} {h.article_label}"
              f"  [{h.category}/{h.level}{('/' + h.region) if h.region else ''}]")
        print("         " + h.text.replace("\n", " ")[:120])
    print(f"({ms:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Policy search quality and latency over the full corpus.

    .venv/bin/python bench/policy_search.py [--index var/policy_index] [--repeat 3] [--misses]

Prints, over src/carenet/policy/data/eval_questions.json:
  * article search only: hit@1, hit@5, MRR (rank of the first correct article
    in the top 10; 0 if none) and query latency p50 / p95;
  * the QA-first path (curated answer's cited articles first, then search):
    the same hit metrics, how many questions a curated answer caught, latency.

A hit is any of the question's listed answer articles (law title + 第X条).
Build the index first: python -m carenet.policy.engine.cli build
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from carenet.policy.engine.corpus import normalise_title  # noqa: E402
from carenet.policy.engine.qa import QAMatcher, ask, load_starter  # noqa: E402
from carenet.policy.starter import BANK_PATH  # noqa: E402
from carenet.policy.engine.search import Searcher  # noqa: E402

DATA = ROOT / "src" / "carenet" / "policy" / "data"
EVAL = DATA / "eval_questions.json"
# Written after the engine was tuned on EVAL, and never used for tuning.
HELDOUT = DATA / "eval_heldout.json"
# Written last, after all tuning, and run once: the honest figure for new questions.
FRESH = DATA / "eval_fresh.json"
# Written after the third round of synonyms (which used eval_fresh.json's misses), run once.
FRESH2 = DATA / "eval_fresh2.json"
# Written before the fourth round (ranking changes, not synonyms), run once before and once after it.
FRESH3 = DATA / "eval_fresh3.json"
# Issue 17: 65 plain questions across topics and places, committed before any issue-17 tuning and never
# tuned on. The figure to quote for new questions.
UNSEEN = DATA / "eval_unseen.json"


def key(law: str, article: str) -> tuple[str, str]:
    return normalise_title(law), article


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    idx = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[idx]


def metrics(ranks: list[int]) -> dict:
    n = len(ranks)
    return {
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@5": sum(1 for r in ranks if 1 <= r <= 5) / n,
        "hit@10": sum(1 for r in ranks if 1 <= r <= 10) / n,
        "MRR": sum(1.0 / r for r in ranks if r >= 1) / n,
    }


def rank_of(keys: list[tuple[str, str]], gold: set[tuple[str, str]]) -> int:
    for i, k in enumerate(keys[:10], 1):
        if k in gold:
            return i
    return 0


def run_set(name, questions, searcher, matcher, args) -> None:
    search_ranks, qa_ranks, answer_ranks, qa_caught = [], [], [], 0
    lat_search: list[float] = []
    lat_qa: list[float] = []
    misses = []
    for q in questions:
        gold = {key(a["law"], a["article"]) for a in q["answers"]}
        hits = searcher.search(q["question"], k=10)
        keys = [key(h.law_title, h.article_label) for h in hits]
        r = rank_of(keys, gold)
        search_ranks.append(r)
        if not (1 <= r <= 5):
            misses.append((q, hits[:3]))
        # QA first: cited articles of the matched curated answer, then search hits.
        best = matcher.best(q["question"])
        qa_keys = []
        if best:
            qa_caught += 1
            qa_keys = [key(c["law"], c["article"]) for c in best.pair["citations"]]
        merged = qa_keys + [k for k in keys if k not in qa_keys]
        qa_ranks.append(rank_of(merged, gold))
        # The answer as the pages show it: ask() (curated card's citations, then the hits re-ranked
        # with the similar pairs' citations).
        ans = ask(q["question"], searcher, matcher, k=10)
        card = [key(c["law"], c["article"]) for c in ans.qa.pair["citations"]] if ans.qa else []
        shown = [key(h.law_title, h.article_label) for h in ans.hits]
        answer_ranks.append(rank_of(card + [k for k in shown if k not in card], gold))

    for _ in range(args.repeat):
        for q in questions:
            # time the question as new: its embedding and tokens too, not cached ones
            searcher.clear_caches()
            t = time.perf_counter()
            searcher.search(q["question"], k=10)
            lat_search.append((time.perf_counter() - t) * 1000)
            searcher.clear_caches()  # (before 2026-12-07 ask() reused the vector search had just cached)
            t = time.perf_counter()
            ask(q["question"], searcher, matcher, k=10)
            lat_qa.append((time.perf_counter() - t) * 1000)

    print(f"\n{name}: {len(questions)} questions (timed passes: {args.repeat})")
    m = metrics(search_ranks)
    print("article search:  hit@1 {hit@1:.3f}  hit@5 {hit@5:.3f}  hit@10 {hit@10:.3f}  MRR {MRR:.3f}".format(**m)
          + f"  latency p50 {percentile(lat_search, 50):.1f} ms  p95 {percentile(lat_search, 95):.1f} ms"
          + f"  max {max(lat_search, default=0.0):.1f} ms")
    m = metrics(qa_ranks)
    print("QA first:        hit@1 {hit@1:.3f}  hit@5 {hit@5:.3f}  hit@10 {hit@10:.3f}  MRR {MRR:.3f}".format(**m)
          + f"  latency p50 {percentile(lat_qa, 50):.1f} ms  p95 {percentile(lat_qa, 95):.1f} ms"
          + f"  curated answer shown for {qa_caught}/{len(questions)}")
    m = metrics(answer_ranks)
    print("answer as shown: hit@1 {hit@1:.3f}  hit@5 {hit@5:.3f}  hit@10 {hit@10:.3f}  MRR {MRR:.3f}".format(**m)
          + "  (ask(): the card's citations, then the hits with pair evidence; latency as QA first)")
    if args.misses:
        print("questions without a correct article in the top 5:")
        for q, top in misses:
            want = "; ".join(f"{a['law']} {a['article']}" for a in q["answers"])
            got = "; ".join(f"{h.law_title} {h.article_label}" for h in top)
            print(f"- {q['id']} {q['question']}\n    want: {want}\n    got:  {got}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the questions")
    ap.add_argument("--misses", action="store_true", help="list questions without a hit@5")
    ap.add_argument("--only-main", action="store_true", help="skip the held-out set")
    ap.add_argument("--no-dense", action="store_true", help="BM25 only (no dense stage)")
    ap.add_argument("--starter-only", action="store_true", help="match only the 280 hand-written pairs")
    ap.add_argument("--sets", default="eval,heldout,fresh,fresh2,fresh3,unseen",
                    help="comma-separated subset of eval,heldout,fresh,fresh2,fresh3 "
                         "(tune with fresh3 left out, so its misses stay unseen)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    searcher = Searcher(args.index, dense=not args.no_dense)
    load_s = time.perf_counter() - t0
    pairs = load_starter() + ([] if args.starter_only else load_starter(BANK_PATH))
    matcher = QAMatcher(pairs)
    # Warm start: what a web worker does as it starts (runtime.warm_up), then the first query.
    t0 = time.perf_counter()
    searcher.warm_up()
    warm_s = time.perf_counter() - t0
    first = []
    for q in ("家里老人走失了找谁帮忙", "孤儿上大学有没有补助", "养老院打老人怎么处理"):
        t = time.perf_counter()
        matcher.best(q)
        searcher.search(q, k=10)
        first.append((time.perf_counter() - t) * 1000)
    meta = searcher.meta
    dense = searcher.dense_status()
    print(f"dense stage: {'on' if dense['active'] else 'off'}, vectors for {dense['ready']} of {dense['total']} "
          f"articles ({dense['percent']}%); Q&A pairs matched: {len(pairs)}")
    print(f"warm start: warm-up {warm_s:.2f} s, then the first three new questions took "
          + ", ".join(f"{x:.1f}" for x in first) + " ms")
    try:
        print(f"load average: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())} on "
              f"{__import__('os').cpu_count()} cores")
    except OSError:
        pass
    print(f"index: {meta['articles']} articles, {meta['laws']} laws "
          f"({meta['superseded_laws']} superseded), built in {meta['timings']['total_s']} s, "
          f"loaded in {load_s:.2f} s")
    wanted = {s.strip() for s in args.sets.split(",") if s.strip()}
    if args.only_main:
        wanted = {"eval"}
    all_sets = (("eval", "eval set", EVAL), ("heldout", "held-out set", HELDOUT), ("fresh", "fresh set", FRESH),
                ("fresh2", "fresh set 2", FRESH2), ("fresh3", "fresh set 3", FRESH3),
                ("unseen", "unseen set (issue 17)", UNSEEN))
    sets = [(name, path) for short, name, path in all_sets if short in wanted and path.exists()]
    for name, path in sets:
        run_set(name, json.loads(path.read_text(encoding="utf-8")), searcher, matcher, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

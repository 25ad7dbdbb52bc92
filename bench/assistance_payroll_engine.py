"""Benchmark: the pure payroll engine for 100,000 beneficiaries.

Measures carenet.assistance.engine.payroll only (no database): building the
month's lines from entitlements and the ledger of already-paid lines.

    .venv/bin/python bench/assistance_payroll_engine.py [N]

Scenarios:
  1. first run      - N new entitlements, empty ledger -> N normal lines
  2. steady month   - N entitlements with 12 paid months each (full reconcile)
                      and 5% retroactive raises -> normal + back-pay lines
  3. steady, window - same, with reconcile_from = 3 months back
  4. idempotent     - re-run of scenario 2's month after persisting its lines
  5. summaries      - summarize() + dynamic_adjustments() over the run
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from carenet.assistance.engine.payroll import (  # noqa: E402
    AmountChange, Entitlement, add_months, compute_month, dynamic_adjustments, index_ledger, summarize,
)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
RUN = date(2026, 10, 1)
TOWNSHIPS = [f"500113{i:03d}" for i in range(1, 23)]
PROGRAMS = ["dibao_urban", "dibao_rural", "tekun", "elderly_allowance"]


def make_entitlements(n: int, start: date, rng: random.Random) -> list[Entitlement]:
    out = []
    for i in range(n):
        program = PROGRAMS[i % 4]
        persons = 1 if program in ("tekun", "elderly_allowance") else rng.randint(1, 5)
        amount = Decimal(rng.randint(200, 3000)) + Decimal(rng.randint(0, 99)) / 100
        out.append(Entitlement(f"e{i}", f"h{i}", program, TOWNSHIPS[i % len(TOWNSHIPS)], amount, persons, start))
    return out


def timed(label: str, fn, rows_of):
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    rows = rows_of(result)
    print(f"{label:<44} {dt:8.3f} s  {rows:>9,} rows  {rows / dt:>12,.0f} rows/s")
    return result


def main() -> None:
    rng = random.Random(42)
    print(f"payroll engine benchmark: {N:,} beneficiaries, run month {RUN:%Y-%m}, python {sys.version.split()[0]}")

    fresh = make_entitlements(N, RUN, rng)
    run1 = timed("1. first run (empty ledger)", lambda: compute_month(fresh, {}, RUN), lambda r: len(r.lines))

    start = add_months(RUN, -12)
    ents = make_entitlements(N, start, rng)
    # ledger: every month from start to RUN-1 paid in full (index form: entitlement -> period -> amount)
    t0 = time.perf_counter()
    paid = {}
    for e in ents:
        per = {}
        m = start
        while m < RUN:
            per[m] = e.monthly_amount
            m = add_months(m, 1)
        paid[e.entitlement_id] = per
    print(f"   (ledger of {N * 12:,} paid lines indexed in {time.perf_counter() - t0:.3f} s)")
    for i in rng.sample(range(N), N // 20):  # 5% retroactive raises effective 2 months ago
        e = ents[i]
        ents[i] = e.with_change(AmountChange(add_months(RUN, -2), e.monthly_amount + Decimal("50")))

    run2 = timed("2. steady month, full reconcile (13 periods)", lambda: compute_month(ents, paid, RUN),
                 lambda r: len(r.lines))
    print(f"   entitlements checked {run2.entitlements_checked:,}, periods checked {run2.periods_checked:,}, "
          f"lines {len(run2.lines):,}, total {run2.total} yuan")
    timed("   same, counted as periods reconciled", lambda: compute_month(ents, paid, RUN), lambda r: r.periods_checked)
    timed("3. steady month, reconcile_from 3 months", lambda: compute_month(ents, paid, RUN,
                                                                          reconcile_from=add_months(RUN, -3)),
          lambda r: len(r.lines))

    persisted = index_ledger(run2.lines)
    for eid, per in persisted.items():
        for m, a in per.items():
            paid[eid][m] = paid[eid].get(m, Decimal(0)) + a
    run4 = timed("4. idempotent re-run of the same month", lambda: compute_month(ents, paid, RUN),
                 lambda r: r.entitlements_checked)
    assert not run4.lines, "re-run produced lines"
    print(f"   new lines on re-run: {len(run4.lines)}")

    timed("5a. summarize by program and township", lambda: summarize(run2.lines), lambda r: len(run2.lines))
    timed("5b. dynamic adjustments", lambda: dynamic_adjustments(fresh + ents, RUN), lambda r: 2 * N)
    for s in summarize(run2.lines, by_township=False):
        print("   " + s.zh())
    _ = run1


if __name__ == "__main__":
    main()

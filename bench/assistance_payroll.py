"""Monthly payroll for 100,000 beneficiaries on PostgreSQL, through the real job (engine + database).

    .venv/bin/python bench/assistance_payroll.py [--beneficiaries 100000]

Uses the dedicated bench database (bench/_django.py; carenet_bench, seeded with 100,000 elders by
`carenet seed`). Creates one entitlement per resident in bulk (50% 低保 households, 25% 特困, 25% 高龄津贴)
once, then times `carenet.assistance.jobs.execute` - the same code the payroll page runs in the
background - for:

1. the first month (empty ledger): every beneficiary gets a normal line;
2. an idempotent re-run of the same month: nothing new is written;
3. the next month after 5% of beneficiaries got a raise effective two months back: normal lines plus
   back-pay (补发) lines, and 1% stopped retroactively from the previous month: recovery (追回) lines;
4. the summaries (figures by program and township, dynamic adjustments) as the figures page computes them.

Each figure is the whole path: load entitlements and their changes, one GROUP BY over the ledger,
engine compute_month, COPY of the new lines into PostgreSQL in one transaction, progress and log
updates, audit row. Bench data is marked (payee name prefix "BENCH") and replaced on every run.
"""
import argparse
import datetime as dt
import platform
import random
import time
from decimal import Decimal

import _django


def fmt_rate(rows, seconds):
    return f"{rows / seconds:>12,.0f} rows/s" if seconds > 0 and rows else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args()
    url = _django.setup()

    from django.db import connection, transaction
    from django.db.models import Count

    from carenet.assistance import jobs, selectors, services
    from carenet.assistance import models as m
    from carenet.assistance.engine import payroll as epay
    from carenet.core.models import AuditLog, Division, User
    from carenet.core.roles import Role
    from carenet.people.models import Resident

    district = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code").first()
    if district is None:
        raise SystemExit("the bench database holds no district: run bench/people_list.py first (it seeds it)")
    services.seed_default_standards(district)
    approver, _ = User.objects.get_or_create(username="bench_approver",
                                             defaults={"role": Role.APPROVER, "division": district})
    y, mo = map(int, args.month.split("-"))
    month1 = dt.date(y, mo, 1)
    month2 = epay.add_months(month1, 1)

    # ---- setup (not timed): replace the bench entitlements and ledger
    t0 = time.perf_counter()
    with transaction.atomic():
        bench_ents = m.Entitlement.objects.filter(payee_name__startswith="BENCH")
        runs = m.PayrollRun.objects.filter(ledger_lines__entitlement__in=bench_ents).distinct()
        run_ids = list(runs.values_list("pk", flat=True)) + list(
            m.PayrollRun.objects.filter(started_by=approver).values_list("pk", flat=True))
        m.LedgerLine.objects.filter(payroll_run_id__in=run_ids).delete()
        m.EntitlementChange.objects.filter(entitlement__in=bench_ents).delete()
        m.PayrollRun.objects.filter(pk__in=run_ids).delete()
        bench_ents.delete()
    street_by_code = {d.code: d.pk for d in Division.objects.filter(level=Division.Level.STREET)}
    rnd = random.Random(5)
    people = list(Resident.objects.order_by("pk").values_list("pk", "household_id", "division__path",
                                                              "household__hukou")[: args.beneficiaries])
    if len(people) < args.beneficiaries:
        raise SystemExit(f"only {len(people)} residents in the bench database")
    grid_ids = dict(Division.objects.filter(path__in={p[2] for p in people}).values_list("path", "pk"))
    start = epay.add_months(month1, -3)
    ents = []
    for i, (pk, hh, path, hukou) in enumerate(people):
        kind = i % 4
        if kind in (0, 1):
            program = "dibao_rural" if hukou == "rural" else "dibao_urban"
            persons = rnd.randint(1, 4)
            amount = Decimal(rnd.randrange(200, 1000)) * persons
            ben = f"h{hh}-{pk}"
        elif kind == 2:
            program, persons, amount, ben = "tekun", 1, Decimal(rnd.choice([1300, 1600, 1900])), f"r{pk}"
        else:
            program, persons, amount, ben = "elderly_allowance", 1, Decimal(rnd.choice([50, 100, 300])), f"r{pk}"
        ents.append(m.Entitlement(program=program, beneficiary_id=ben, payee_id=pk, payee_name=f"BENCH{pk}",
                                  township_id=street_by_code[path.split("/")[1]], division_id=grid_ids[path],
                                  monthly_amount=amount, persons=persons, start_month=start))
    m.Entitlement.objects.bulk_create(ents, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE assistance_entitlement; ANALYZE assistance_ledgerline")
    print(f"setup: {len(ents):,} entitlements created in {time.perf_counter() - t0:.1f}s (not timed below)")

    def timed_run(label, month, program="*"):
        run = services.start_payroll(approver, run_month=month, program=program, area=district)
        t = time.perf_counter()
        run = jobs.execute(run.pk, mark_paying=False)
        sec = time.perf_counter() - t
        assert run.status == "done", run.log
        print(f"{label:<52}{sec:8.2f} s {run.entitlements:>10,} entitlements {run.lines:>9,} lines"
              f"{fmt_rate(run.entitlements, sec)}")
        return run, sec

    print(f"assistance payroll benchmark: {len(ents):,} beneficiaries, {connection.vendor} "
          f"({url.rsplit('@', 1)[-1]}), python {platform.python_version()}")
    print(f"{'':<52}{'time':>10} {'checked':>21} {'written':>15} {'(entitlements/s)':>17}")
    # the months before month1 are paid first, so month1 is a steady month with a 3-month history
    for k in (3, 2, 1):
        timed_run(f"0. history {epay.add_months(month1, -k):%Y-%m} (ledger grows)", epay.add_months(month1, -k))
    r1, s1 = timed_run(f"1. monthly run {month1:%Y-%m}", month1)
    r2, s2 = timed_run(f"2. idempotent re-run of {month1:%Y-%m}", month1)
    assert r2.lines == 0
    # 5% raised from two months back, 1% stopped from last month (retroactive corrections)
    sample = list(m.Entitlement.objects.filter(payee_name__startswith="BENCH").order_by("pk")
                  .values_list("pk", "monthly_amount"))
    raised = sample[::20]
    stopped = [pk for pk, _ in sample[3::97]]
    m.EntitlementChange.objects.bulk_create([
        m.EntitlementChange(entitlement_id=pk, effective_month=epay.add_months(month1, -1), monthly_amount=a + 50,
                            reason="bench raise", created_by=approver) for pk, a in raised], batch_size=5000)
    m.Entitlement.objects.filter(pk__in=stopped).update(stop_month=month1)
    r3, s3 = timed_run(f"3. next month {month2:%Y-%m} with corrections", month2)
    print("   job log of run 3 (phases, cumulative seconds):")
    for line in r3.log.splitlines():
        print("     " + line.split(" ", 1)[1])
    kinds = dict(m.LedgerLine.objects.filter(payroll_run=r3).values_list("kind").annotate(n=Count("id")).order_by())
    print(f"   lines by kind: {kinds}; total {r3.total} yuan")
    t = time.perf_counter()
    fig = selectors.figures(approver, month2)
    adj = selectors.adjustments(approver, month1)
    s4 = time.perf_counter() - t
    print(f"{'4. figures by program and township + adjustments':<52}{s4:8.2f} s")
    for row in fig["overall"]:
        print(f"   {row['text']}")
    stopped_total = {}
    for a in adj:
        k = a["adj"].program
        stopped_total[k] = stopped_total.get(k, 0) + a["adj"].stopped_households
    print(f"   dynamic adjustment {month1:%Y-%m} (retroactive stops), stopped households by program: {stopped_total}")
    total_lines = m.LedgerLine.objects.filter(entitlement__payee_name__startswith="BENCH").count()
    print(f"ledger now holds {total_lines:,} bench lines; audit rows of bench payroll runs (all time): "
          f"{AuditLog.objects.filter(model='assistance.payrollrun', actor=approver).count()}")


if __name__ == "__main__":
    main()

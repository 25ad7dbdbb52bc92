"""Monthly home-care settlement of 100,000 elders and 1,000,000 orders on PostgreSQL, through the real job.

    .venv/bin/python bench/homecare_settlement.py [--elders 100000] [--orders 1000000]

Uses its own bench database (carenet_homecare_bench; CARENET_BENCH_DATABASE_URL overrides). Seeding is not
timed: a district of 10 streets and 100 communities, the elders (residents, households, elder profiles and
categories: 25% 特困, 25% 低保, 10% severe disability, the rest without a budget), the district's budget
standards (200 yuan a month), 20 providers with 500 helpers, and the month's orders, all written with COPY.
1% of the orders carry an open anomaly (so they settle as disputed lines), 0.2% an upheld one (rejected).

Then it times `carenet.homecare.jobs.execute` - the same code the settlement page runs in the background:
1. the month's settlement (load, budgets from the dated standards, engine, COPY of the lines);
2. its idempotent re-run (the month is settled once: nothing new);
3. the next month, with 1,000 corrections to the settled month and 10,000 orders of the settled month
   confirmed late (adjustment and late lines), plus that month's own orders (10% of the first month's).
"""
import argparse
import datetime as dt
import platform
import random
import time
from decimal import Decimal

import _django


def copy_rows(connection, model, rows, columns):
    table = model._meta.db_table
    with connection.cursor() as cur:
        with cur.connection.cursor().copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row(r)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--elders", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-09")
    args = parser.parse_args()
    url = _django.setup("postgres://postgres@127.0.0.1:5432/carenet_homecare_bench")

    from django.db import connection
    from django.db.models import Count, Sum
    from django.utils import timezone

    from carenet.core.models import Division, User
    from carenet.core.roles import Role
    from carenet.homecare import jobs, services
    from carenet.homecare import models as m
    from carenet.people.models import ElderCategory, ElderProfile, Household, Resident

    y, mo = map(int, args.month.split("-"))
    month1 = dt.date(y, mo, 1)
    month2 = (month1 + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    rnd = random.Random(11)
    now = timezone.now()

    # ---------------------------------------------------------------- seed (not timed)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE homecare_settlementline, homecare_correction, homecare_settlementrun, homecare_anomaly, "
                    "homecare_orderevent, homecare_visitphoto, homecare_followupcall, homecare_order CASCADE")
    district = Division.objects.filter(code="349999000000").first()
    if district is None:
        district = Division.objects.create(code="349999000000", name="基准区", level=Division.Level.DISTRICT)
    comms = list(Division.objects.filter(path__startswith=district.path + "/", level=Division.Level.COMMUNITY))
    if not comms:
        for s in range(10):
            street = Division.objects.create(code=f"349999{s + 1:03d}000", name=f"基准街道{s + 1}",
                                             level=Division.Level.STREET, parent=district)
            for c in range(10):
                comms.append(Division.objects.create(code=f"349999{s + 1:03d}{c + 1:03d}", name=f"基准社区{s}{c}",
                                                     level=Division.Level.COMMUNITY, parent=street))
    have = ElderProfile.objects.filter(resident__division__path__startswith=district.path + "/").count()
    if have < args.elders:
        n = args.elders - have
        base_h = (Household.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        base_r = (Resident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        base_e = (ElderProfile.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        copy_rows(connection, Household, ((base_h + i, comms[i % len(comms)].pk, f"基准路{i}号", "urban", now, )
                                          for i in range(n)), ["id", "division_id", "address", "hukou", "created"])
        copy_rows(connection, Resident, (
            (base_r + i, f"基准{i}", "MF"[i % 2], dt.date(1940 + i % 25, 1 + i % 12, 1 + i % 28), "bench",
             f"bench-{base_r + i:012d}", "3499**********0000", f"139{i:08d}", f"基准路{i}号",
             30.5 + (i % 1000) / 10000, 117.0 + (i % 997) / 10000, comms[i % len(comms)].pk, base_h + i, "head",
             now, now) for i in range(n)),
            ["id", "name", "sex", "birth_date", "id_number_enc", "id_number_hash", "id_masked", "phone", "address",
             "lat", "lon", "division_id", "household_id", "relation", "created", "updated"])
        copy_rows(connection, ElderProfile, ((base_e + i, base_r + i, "alone", "intact", False, False, "", now)
                                             for i in range(n)),
                  ["id", "resident_id", "living", "care_level", "dementia", "key_elder", "notes", "updated"])
        cats = []
        for i in range(n):
            k = i % 20
            code = "tekun" if k < 5 else "dibao" if k < 10 else "severe_disability" if k < 12 else None
            if code:
                cats.append((base_e + i, code))
        copy_rows(connection, ElderCategory, cats, ["elder_id", "code"])
        with connection.cursor() as cur:
            for t in ("people_household", "people_resident", "people_elderprofile"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
    services.seed_standards(district, effective_from=dt.date(2024, 1, 1))
    bath, _c = m.ServiceType.objects.get_or_create(code="bath", defaults=dict(name="助浴", price=Decimal("60"), min_minutes=45, max_minutes=90))
    clean, _c = m.ServiceType.objects.get_or_create(code="clean", defaults=dict(name="助洁", unit="hour", price=Decimal("40"), min_minutes=60, max_minutes=180))
    meal, _c = m.ServiceType.objects.get_or_create(code="meal_delivery", defaults=dict(name="送餐", unit="meal", price=Decimal("15"), min_minutes=5, max_minutes=30))
    types = [(bath.pk, Decimal("60")), (clean.pk, Decimal("40")), (meal.pk, Decimal("15"))]
    providers = list(m.Provider.objects.filter(name__startswith="基准服务商"))
    if not providers:
        for i in range(20):
            p = m.Provider.objects.create(name=f"基准服务商{i + 1}", division=district, contract_start=dt.date(2024, 1, 1),
                                          contract_end=dt.date(2030, 12, 31))
            p.areas.add(district)
            providers.append(p)
        m.Helper.objects.bulk_create([m.Helper(provider=providers[i % 20], name=f"基准助老员{i}", division=district)
                                      for i in range(500)])
    helpers = list(m.Helper.objects.filter(provider__in=providers).values_list("pk", "provider_id"))
    admin, _c = User.objects.get_or_create(username="bench_homecare_admin", defaults={"role": Role.DISTRICT_ADMIN, "division": district})
    elders = list(ElderProfile.objects.filter(resident__division__path__startswith=district.path + "/")
                  .order_by("pk").values_list("pk", "resident__division_id")[: args.elders])

    def order_rows(count, month, first_id):
        days = ((month + dt.timedelta(days=32)).replace(day=1) - month).days
        for i in range(count):
            eid, did = elders[i % len(elders)]
            hid, pid = helpers[rnd.randrange(len(helpers))]
            st, price = types[i % 3]
            start = dt.datetime.combine(month + dt.timedelta(days=rnd.randrange(days)), dt.time(8 + i % 9), tz)
            end = start + dt.timedelta(minutes=60)
            subsidy = price if i % 10 else Decimal("0.00")  # 10% fully self-paid with consent
            yield (first_id + i, eid, did, st, pid, hid, "rated", "call", start, 60, "", price, subsidy, price - subsidy,
                   subsidy == 0, "", "", now, start, start, end, "本人", 5, now, end, start, "ok")

    cols = ["id", "elder_id", "division_id", "service_type_id", "provider_id", "helper_id", "state", "channel",
            "scheduled_at", "minutes", "notes", "price", "subsidy", "self_pay", "self_pay_consent", "split_note",
            "reason", "created", "checked_in_at", "checked_in_received", "checked_out_at", "confirmed_by", "rating",
            "updated", "confirmed_at", "accepted_at", "record"]
    rows = order_rows

    copy_rows(connection, m.Order, rows(args.orders, month1, 1), cols)
    anomalies = [(oid, district.pk, "outside_geofence", "签到距住址 1112 米", "open") for oid in range(7, args.orders, 100)] + \
                [(oid, district.pk, "photo_reused", "照片与其他订单相同", "upheld") for oid in range(13, args.orders, 500)]
    copy_rows(connection, m.Anomaly, ((a, b, c, d, e, now, "") for a, b, c, d, e in anomalies),
              ["order_id", "division_id", "kind", "detail", "status", "created", "resolution"])
    with connection.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('homecare_order', 'id'), (SELECT max(id) FROM homecare_order))")
        cur.execute("ANALYZE homecare_order; ANALYZE homecare_anomaly; ANALYZE people_eldercategory")
    print(f"seed: {len(elders):,} elders, {args.orders:,} orders of {month1:%Y-%m}, {len(anomalies):,} anomalies "
          f"in {time.perf_counter() - t0:.1f}s (not timed below)")
    print(f"homecare settlement benchmark: {connection.vendor} ({url.rsplit('@', 1)[-1]}), python {platform.python_version()}")

    def timed(label, month):
        run = jobs.start(admin, month)
        t = time.perf_counter()
        run = jobs.execute(run.pk)
        sec = time.perf_counter() - t
        assert run.status == "done", run.log
        written = m.SettlementLine.objects.filter(run=run).count()
        print(f"{label:<55}{sec:8.2f} s  {written:>10,} lines in the run  subsidy {run.subsidy:>14,} yuan")
        return run, sec

    def ceiling(month):
        """The floor under any settlement, measured in the same run: a raw COPY of the month's orders out of the
        database (the columns the job reads) and a raw COPY of as many preformatted lines into a scratch copy of
        the lines table. No Python per row beyond the I/O."""
        start, end = (dt.datetime.combine(month, dt.time.min, tz),
                      dt.datetime.combine((month + dt.timedelta(days=32)).replace(day=1), dt.time.min, tz))
        t = time.perf_counter()
        n = 0
        with connection.cursor() as cur:
            raw = cur.connection.cursor()
            with raw.copy("COPY (SELECT id, elder_id, provider_id, checked_out_at, price, subsidy FROM homecare_order "
                          "WHERE checked_out_at >= %s AND checked_out_at < %s ORDER BY elder_id, checked_out_at, id) "
                          "TO STDOUT", (start, end)) as copy:
                for block in copy:
                    n += bytes(block).count(b"\n")
            raw.execute("CREATE TEMP TABLE bench_lines (LIKE homecare_settlementline INCLUDING ALL)")
            pre = f"1\t{month}\t{month}\tservice\taccepted\t1\t1\t"
            with raw.copy("COPY bench_lines (run_id, month, service_month, kind, status, provider_id, elder_id, order_id, "
                          "correction_id, price, subsidy, self_pay, reason) FROM STDIN") as copy:
                for i in range(0, n, 50000):
                    copy.write("".join(f"{pre}{j}\t\\N\t60.00\t60.00\t0.00\t\n" for j in range(i, min(n, i + 50000))))
            raw.execute("DROP TABLE bench_lines")
        return n, time.perf_counter() - t

    cn, cs = ceiling(month1)
    print(f"{'0. ceiling: raw COPY out of ' + format(cn, ',') + ' orders + COPY in of as many lines':<55}{cs:8.2f} s")
    r1, s1 = timed(f"1. settlement of {month1:%Y-%m}", month1)
    print("   job log:")
    for line in r1.log.splitlines():
        print("     " + line)
    before = m.SettlementLine.objects.filter(run=r1).aggregate(n=Count("id"), s=Sum("subsidy"))
    r2, s2 = timed(f"2. idempotent re-run of {month1:%Y-%m}", month1)
    after = m.SettlementLine.objects.filter(run=r1).aggregate(n=Count("id"), s=Sum("subsidy"))
    assert r2.pk == r1.pk and before == after
    # next month: corrections to the settled month, late confirmations, and the month's own orders
    first = m.Order.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    late_n, own_n = 10_000, args.orders // 10
    copy_rows(connection, m.Order, rows(late_n, month1, first), cols)
    copy_rows(connection, m.Order, rows(own_n, month2, first + late_n), cols)
    disputed = list(m.SettlementLine.objects.filter(run=r1, status="disputed").values_list("order_id", "elder_id")[:1000])
    m.Correction.objects.bulk_create([m.Correction(order_id=oid, delta=Decimal("15.00"), reason="异常核实排除，补结补贴",
                                                   created_by=admin) for oid, _e in disputed])
    with connection.cursor() as cur:
        cur.execute("ANALYZE homecare_order")
    r3, s3 = timed(f"3. {month2:%Y-%m}: own orders + {late_n:,} late + {len(disputed):,} corrections", month2)
    kinds = dict(m.SettlementLine.objects.filter(run=r3).values_list("kind").annotate(n=Count("id")).order_by())
    statuses = dict(m.SettlementLine.objects.filter(run=r1).values_list("status").annotate(n=Count("id")).order_by())
    print(f"   {month1:%Y-%m} lines by status: {statuses}")
    print(f"   {month2:%Y-%m} lines by kind: {kinds}")
    assert m.SettlementLine.objects.filter(run=r1).aggregate(n=Count("id"), s=Sum("subsidy")) == before  # never changes
    print(f"summary: {args.orders:,} orders settled in {s1:.1f}s ({args.orders / s1:,.0f} orders/s), "
          f"{s1 / cs:.1f}x the raw-COPY ceiling of {cs:.1f}s; re-run {s2:.2f}s; next month {s3:.1f}s. "
          f"Aim: under 60 s on the 2-core machine.")


if __name__ == "__main__":
    main()

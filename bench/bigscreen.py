"""Big-screen and supervision data endpoints with 100,000 elders and 300 facilities (PostgreSQL by default).

    .venv/bin/python bench/bigscreen.py [--elders 100000] [--repeat 20]

Seeds a dedicated database once (`seed`, `seed_facilities`, extra meal points up to 300 facilities, a month of
alarms), then times full requests through Django's test client (middleware, scoping, queries, JSON/template) as the
district supervisor and as a street reviewer. Prints median and p95 per endpoint.
"""
import argparse
import datetime as dt
import random
import statistics
import time

import _django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--elders", type=int, default=100_000)
    parser.add_argument("--facilities", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = _django.setup("postgres://postgres@127.0.0.1:5432/carenet_bigscreen_bench")

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from carenet.core.models import Division, User
    from carenet.facilities import models as fm
    from carenet.monitoring.models import Alarm
    from carenet.people.models import ElderProfile

    have = ElderProfile.objects.count()
    if have == 0:
        t0 = time.perf_counter()
        call_command("seed", elders=args.elders, seed=7)
        print(f"seeded {args.elders} elders in {time.perf_counter() - t0:.1f}s")
    elif abs(have - args.elders) > args.elders * 0.05:
        raise SystemExit(f"bench database holds {have} elders, not ~{args.elders}: drop it")
    if not fm.Facility.objects.exists():
        call_command("seed_facilities", smart_rooms=6)
        streets = list(Division.objects.filter(level=2))
        rng = random.Random(3)
        n = fm.Facility.objects.count()
        fm.Facility.objects.bulk_create([
            fm.Facility(code=f"FB{i:05d}", name=f"长者食堂B{i}", type="meal_point", status="operating",
                        division=rng.choice(streets), meal_capacity=100) for i in range(max(0, args.facilities - n))])
        elders = list(ElderProfile.objects.select_related("resident").values_list("id", "resident__division_id")[:3000])
        now = timezone.now()
        alarms = []
        for i, (eid, div) in enumerate(elders):
            raised = now - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 30))
            closed = i % 20 != 0
            alarms.append(Alarm(elder_id=eid, division_id=div, type=rng.choice(["sos", "inactivity", "smoke", "low_battery"]),
                                key=f"bench{i}", severity="high", severity_rank=1, message="bench",
                                status="resolved" if closed else "raised", condition_at=raised, last_at=raised,
                                raised_at=raised, acknowledged_at=raised + dt.timedelta(seconds=rng.randint(5, 120)) if closed else None,
                                closed_at=raised + dt.timedelta(minutes=rng.randint(2, 90)) if closed else None))
        Alarm.objects.bulk_create(alarms)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(f"database {url.split('@')[-1]}: {ElderProfile.objects.count()} elders, {fm.Facility.objects.count()} facilities, "
          f"{Alarm.objects.count()} alarms")

    district = Division.objects.filter(level=1).first()
    street = Division.objects.filter(level=2).order_by("code").first()
    sup, _ = User.objects.get_or_create(username="bench_supervisor", defaults={"role": "supervisor", "division": district})
    rev, _ = User.objects.get_or_create(username="bench_reviewer", defaults={"role": "reviewer", "division": street})
    from django.core.cache import cache

    for user, label in ((sup, "district supervisor"), (rev, "street reviewer")):
        client = Client()
        client.force_login(user)
        for path in ("/bigscreen/data.json (cold)", "/bigscreen/data.json", "/bigscreen/", "/supervision/",
                     "/supervision/export.xlsx"):
            if user is rev and not path.startswith("/bigscreen"):
                continue
            cold = path.endswith("(cold)")
            path = path.split(" ")[0]
            times = []
            for _ in range(args.repeat):
                if cold:
                    cache.clear()   # the elder counts are cached 60 s; a cold request recomputes them
                t0 = time.perf_counter()
                r = client.get(path)
                times.append(time.perf_counter() - t0)
                if r.status_code not in (200, 403):
                    raise SystemExit(f"{path}: {r.status_code}")
            print(f"  {label:20s} {path + (' (cold)' if cold else ''):31s} median {statistics.median(times) * 1000:7.1f} ms   "
                  f"p95 {_django.percentile(times, 95) * 1000:7.1f} ms   ({r.status_code}, {len(r.content):,} bytes)")


if __name__ == "__main__":
    main()

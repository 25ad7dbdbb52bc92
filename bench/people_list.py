"""Elder list and search latency with 100,000 seeded elders (PostgreSQL by default).

    .venv/bin/python bench/people_list.py [--elders 100000] [--repeat 30]

Seeds the dedicated bench database once (`carenet seed`), then times full requests through Django's
test client (middleware, scoping, query, template) as a district admin and as a community worker.
"""
import argparse
import statistics
import time

import _django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--elders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = _django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the client see the template context (row counts)

    from carenet.core.models import User
    from carenet.people.models import ElderProfile, Resident

    have = ElderProfile.objects.count()
    if have == 0:
        t0 = time.perf_counter()
        call_command("seed", elders=args.elders, seed=7)
        print(f"seeded {args.elders} elders in {time.perf_counter() - t0:.1f}s")
    elif abs(have - args.elders) > args.elders * 0.05:
        raise SystemExit(f"bench database holds {have} elders, not ~{args.elders}: drop it or set CARENET_BENCH_DATABASE_URL")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(f"database: {url.split('@')[-1]}  elders: {ElderProfile.objects.count()}  residents: {Resident.objects.count()}")

    sample = Resident.objects.filter(elder__isnull=False).order_by("id")[5000]
    full_id = sample.id_number
    cases = [
        ("list page 1", "/people/elders/"),
        ("list page 200", "/people/elders/?page=200"),
        ("search name (surname+given)", f"/people/elders/?q={sample.name}"),
        ("search surname prefix", f"/people/elders/?q={sample.name[0]}"),
        ("search phone suffix", f"/people/elders/?q={(sample.phone or '13800000000')[-4:]}"),
        ("search full ID (hash)", f"/people/elders/?q={full_id}"),
        ("search masked ID", f"/people/elders/?q={sample.id_masked}"),
        ("filter category dibao", "/people/elders/?category=dibao"),
        ("filter street+care level", "/people/elders/?division=340899003000&care_level=severe"),
        ("API list 50", "/api/people/elders?limit=50"),
    ]
    for username in ("admin", "worker"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        print(f"\nas {username} ({User.objects.get(username=username).division.name}); {args.repeat} requests each, ms")
        print(f"{'case':32} {'median':>8} {'p95':>8} {'rows':>8}")
        for label, path in cases:
            client.get(path)  # warm
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            rows = response.context["page"].paginator.count if response.context and "page" in response.context else "-"
            print(f"{label:32} {statistics.median(times):8.1f} {_django.percentile(times, 95):8.1f} {rows!s:>8}")


if __name__ == "__main__":
    main()

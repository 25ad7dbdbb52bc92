"""Cost of a burst of SOS presses through ingest() (the urgent lane's work), on PostgreSQL by default.

    .venv/bin/python bench/sos_ingest.py [--presses 200] [--batch 10]

Each press comes from a different home, so every one creates an alarm and its transition. Prints the time for
the whole burst in transactions of --batch messages, as the worker's urgent lane runs them.
"""
import argparse
import json
import time

import _django


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--presses", type=int, default=200)
    p.add_argument("--batch", type=int, default=10)
    args = p.parse_args()
    url = _django.setup("postgres://postgres@127.0.0.1:5432/carenet_sos_bench")

    from django.core.management import call_command
    from django.db import connection

    from carenet.devices.models import Device, demo_token, hash_token
    from carenet.monitoring.ingest import RawMessage, ingest
    from carenet.people.models import ElderProfile

    if ElderProfile.objects.count() < args.presses:
        if ElderProfile.objects.exists():
            raise SystemExit("carenet_sos_bench holds too few elders; drop it")
        call_command("seed", elders=args.presses, seed=5, no_users=True)
    elders = list(ElderProfile.objects.order_by("id").values_list("id", flat=True)[:args.presses])
    Device.objects.bulk_create([Device(device_id=f"S{e}", type="sos_button", elder_id=e, room="bedroom",
                                       token_hash=hash_token(demo_token(f"S{e}"))) for e in elders],
                               ignore_conflicts=True)
    with connection.cursor() as cur:  # every run starts from no alarms, as a real burst would
        cur.execute("TRUNCATE monitoring_alarmtransition, monitoring_alarm CASCADE")

    def burst(tag):
        msgs = [RawMessage(json.dumps({"token": demo_token(f"S{e}"), "events": [
            {"id": f"{tag}-{e}", "ts": time.time(), "kind": "sos"}]}).encode(), "mqtt", f"carenet/v1/dev/S{e}/up")
            for e in elders]
        t0 = time.perf_counter()
        for i in range(0, len(msgs), args.batch):
            ingest(msgs[i:i + args.batch])
        return time.perf_counter() - t0

    first = burst(f"a{time.time_ns()}")   # creates one alarm per home
    repeat = burst(f"b{time.time_ns()}")  # the same homes press again: the alarms count up
    print(f"database {url.split('@')[-1]}: {args.presses} SOS from {args.presses} homes, transactions of {args.batch}")
    print(f"  new alarms:      {first:.3f} s  ({first / args.presses * 1000:.2f} ms per press)")
    print(f"  repeat presses:  {repeat:.3f} s  ({repeat / args.presses * 1000:.2f} ms per press)")


if __name__ == "__main__":
    main()

"""Partitioned ingest on NATS JetStream: ceiling, full path with 1 and 2 workers, latency, failover (issue 15).

    .venv/bin/python bench/ingest_throughput.py --transport nats [--homes 10000] [--events 60000]
        [--per-message 10] [--partitions 16] [--batch 100] [--seconds 15]

A private nats-server (port 14250, JetStream in a temporary directory, the shipped mapping with --partitions)
and its own bench database (carenet_ingest_bench_nats on PostgreSQL; CARENET_BENCH_DATABASE_URL overrides).

1. Ceiling: one JetStream pull consumer over the whole stream that only parses each message (json.loads),
   fetching batches and acknowledging each batch: events/s.
2. Full path, saturated, with 1 and then 2 workers (`manage.py ingest_worker`): the workers first share the
   partitions, then the events are published at once (JetStream publish with acknowledgements) and the time runs
   until the last event is committed. events/s, and as a fraction of the ceiling.
3. Latency with 1 worker at 70% of its saturated rate, SOS presses from distinct homes mixed in: publish →
   alarm committed (seen by a 10 ms poller), p50 and p99.
4. Failover: 2 workers under a paced load (50% of their saturated rate); one is SIGKILLed; the time until every
   partition it held has been taken over and has committed a batch again.
"""
import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _django

ROOT = Path(__file__).resolve().parent.parent
PORT = 14250
RUNNING: list = []   # worker processes, stopped whatever happens

BARE = r'''
import asyncio, json, sys, time
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
async def main(url, stream, n, batch):
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("carenet.part.>", durable="bench-bare", stream=stream, config=ConsumerConfig(
        ack_policy=AckPolicy.ALL, deliver_policy=DeliverPolicy.ALL))
    count = events = 0
    first = None
    while count < n:
        try:
            msgs = await sub.fetch(batch, timeout=5)
        except Exception:
            break
        if first is None:
            first = time.time()
        for m in msgs:
            events += len(json.loads(m.data)["events"])
            count += 1
        await msgs[-1].ack()
    print(json.dumps({"messages": count, "events": events, "seconds": time.time() - first}), flush=True)
    await nc.close()
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
'''


def wanted(argv) -> bool:
    return "--transport" in argv and argv[argv.index("--transport") + 1:][:1] == ["nats"]


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--transport", choices=["nats"], default="nats")
    p.add_argument("--homes", type=int, default=10_000)
    p.add_argument("--events", type=int, default=60_000)
    p.add_argument("--per-message", type=int, default=10)
    p.add_argument("--partitions", type=int, default=16)
    p.add_argument("--batch", type=int, default=100, help="messages fetched and stored per transaction")
    p.add_argument("--seconds", type=int, default=15, help="length of the paced latency and failover runs")
    p.add_argument("--lookahead", action="store_true", help="workers with the urgent look-ahead consumer (comparison)")
    return p.parse_args()


def setup_homes(n_homes):
    """Homes from the bench database (made by bench/ingest_throughput.py's seeding if missing)."""
    from django.core.management import call_command

    from carenet.devices.models import Device, demo_token, hash_token
    from carenet.people.models import ElderProfile

    if ElderProfile.objects.count() < n_homes:
        if ElderProfile.objects.exists():
            raise SystemExit("bench database holds another district; drop carenet_ingest_bench_nats")
        call_command("seed", elders=n_homes, seed=11, no_users=True)
    elders = list(ElderProfile.objects.order_by("id").values_list("id", flat=True)[:n_homes])
    have = set(Device.objects.filter(device_id__startswith="B").values_list("device_id", flat=True))
    rows = []
    for e in elders:
        for did, type_, room in [(f"B{e}-pir-{r}", "pir", r) for r in ("bedroom", "living", "kitchen", "bathroom")] + \
                [(f"B{e}-sos", "sos_button", "bedroom"), (f"B{e}-gw", "gateway", "hall")]:
            if did not in have:
                rows.append(Device(device_id=did, type=type_, elder_id=e, room=room, token_hash=hash_token(demo_token(did))))
    Device.objects.bulk_create(rows, batch_size=5000)
    homes = [(e, f"B{e}-gw", [f"B{e}-pir-{r}" for r in ("bedroom", "living", "kitchen", "bathroom")]) for e in elders]
    random.Random(1).shuffle(homes)
    return homes


def build(homes, n_events, per_message, prefix, sos_every=0):
    """[(subject, body dict, sos elder or None)] carrying n_events in gateway batches; every sos_every-th message
    is an SOS press from the next home instead."""
    from carenet.devices.models import demo_token

    out, i, sos_i = [], 0, 0
    while i < n_events:
        m = len(out)
        if sos_every and m % sos_every == sos_every // 2 and sos_i < len(homes):
            e = homes[sos_i][0]
            sos_i += 1
            body = {"token": demo_token(f"B{e}-sos"), "events": [{"id": f"{prefix}s{m}", "ts": 0, "kind": "sos"}]}
            out.append((f"carenet.v1.home.{e}.dev.B{e}-sos.up", body, e))
            i += 1
            continue
        e, gw, pirs = homes[m % len(homes)]
        events = []
        for j in range(min(per_message, n_events - i)):
            events.append({"device_id": pirs[j % len(pirs)], "id": f"{prefix}{i}", "ts": 0, "kind": "motion",
                           "value": {"motion": True}})
            i += 1
        out.append((f"carenet.v1.home.{e}.dev.{gw}.up", {"token": demo_token(gw), "events": events}, None))
    return out


async def publish_all(url, msgs, rate=None, sent_at=None):
    """Publish with JetStream acknowledgements; paced at `rate` messages/s when given."""
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    t0 = time.time()
    for i, (subject, body, sos) in enumerate(msgs):
        if rate:
            delay = t0 + i / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
        now = time.time()
        for ev in body["events"]:
            ev["ts"] = now
        await js.publish_async(subject, json.dumps(body).encode())
        if sos is not None and sent_at is not None:
            sent_at[sos] = now
        if i % 500 == 499:
            await js.publish_async_completed()
    await js.publish_async_completed()
    await nc.close()
    return time.time() - t0


async def reset_stream(url, partitions):
    import nats

    from carenet.monitoring.natsworker import stream_config
    from carenet.monitoring.subjects import STREAM

    nc = await nats.connect(url)
    js = nc.jetstream()
    try:
        await js.delete_stream(STREAM)
    except Exception:
        pass
    await js.add_stream(stream_config(STREAM, 3600))
    await nc.close()


def reset_db():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE devices_deviceevent, devices_quarantine, monitoring_alarmtransition, monitoring_alarm, "
                    "monitoring_monitorstate, monitoring_ingestpartition, monitoring_ingestmember CASCADE")


def start_workers(n, url, args, env, tmp, phase=""):
    from carenet.monitoring.models import IngestPartition

    procs = []
    for w in range(n):
        log = open(tmp / f"worker{phase}-{w}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "ingest_worker", "--nats", url, "--name", f"bench-w{w}",
             "--partitions", str(args.partitions), "--batch", str(args.batch),
             *(["--lookahead"] if args.lookahead else [])],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.time() + 60
    while time.time() < deadline:
        owners = list(IngestPartition.objects.values_list("owner", flat=True))
        if len(owners) == args.partitions and all(owners) and len(set(owners)) == n:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # the consumers are (re)created right after the leases
    return procs


def stop_workers(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_count(target, stall=30):
    from carenet.devices.models import DeviceEvent

    last, last_change = -1, time.time()
    while True:
        count = DeviceEvent.objects.count()
        if count != last:
            last, last_change = count, time.time()
        if count >= target or time.time() - last_change > stall:
            return count, last_change
        time.sleep(0.05)


def saturated(n_workers, url, args, env, tmp, homes):
    reset_db()
    asyncio.run(reset_stream(url, args.partitions))
    procs = start_workers(n_workers, url, args, env, tmp, f"-sat{n_workers}")
    RUNNING.extend(procs)
    msgs = build(homes, args.events, args.per_message, f"sat{n_workers}-")
    t0 = time.time()
    t_pub = asyncio.run(publish_all(url, msgs))
    count, done = wait_count(args.events)
    rate = count / max(1e-9, done - t0)
    return procs, rate, count, t_pub, len(msgs)


def main():
    args = parse_args()
    db_url = _django.setup("postgres://postgres@127.0.0.1:5432/carenet_ingest_bench_nats")
    from carenet.devices.models import DeviceEvent
    from carenet.monitoring.localnats import PrivateNats
    from carenet.monitoring.models import Alarm, IngestPartition
    from carenet.monitoring.subjects import STREAM

    homes = setup_homes(args.homes)
    print(f"database {db_url.split('@')[-1]}: {len(homes)} homes; nats-server on {PORT}, {args.partitions} partitions,"
          f" {args.per_message} events per message, batches of {args.batch} messages")
    tmp = Path(tempfile.mkdtemp(prefix="carenet-bench-nats-"))
    server = PrivateNats(tmp, PORT, None, args.partitions).start()
    url = server.url
    env = dict(os.environ, CARENET_DATABASE_URL=db_url, PYTHONUNBUFFERED="1")
    try:
        # 1. ceiling
        asyncio.run(reset_stream(url, args.partitions))
        msgs = build(homes, args.events, args.per_message, "bare")
        asyncio.run(publish_all(url, msgs))
        res = json.loads(subprocess.run([sys.executable, "-c", BARE, url, STREAM, str(len(msgs)), str(args.batch)],
                                        capture_output=True, text=True, timeout=300).stdout)
        ceiling = res["events"] / res["seconds"]
        print(f"\n1. ceiling: JetStream pull consumer that only parses: {res['messages']} msgs, {res['events']} events"
              f" in {res['seconds']:.2f}s = {ceiling:,.0f} events/s ({res['messages'] / res['seconds']:,.0f} msg/s)")

        # 2a. one worker, saturated
        procs, rate1, count, t_pub, n_msgs = saturated(1, url, args, env, tmp, homes)
        print(f"\n2. full path (JetStream → ingest_worker → rules → PostgreSQL), {n_msgs} messages:")
        print(f"   1 worker : {count} of {args.events} events in {count / rate1:.1f}s = {rate1:,.0f} events/s"
              f"  ({rate1 / ceiling:.0%} of the ceiling; publishing took {t_pub:.1f}s)")

        # 3. latency with that worker at 70% of its rate
        offered = 0.7 * rate1
        total = int(offered * args.seconds)
        n_msgs = max(1, total // args.per_message)
        # at most 300 presses, and at least 20 gateway messages between two (SOS are rare beside the sensors)
        lat_msgs = build(homes, total, args.per_message, "lat-", sos_every=max(20, n_msgs // min(len(homes), 300)))
        seen: dict[int, float] = {}
        sent_at: dict[int, float] = {}
        stop = threading.Event()

        def watch():
            from django.db import connection
            while not stop.is_set():
                for elder_id in Alarm.objects.filter(type="sos").values_list("elder_id", flat=True):
                    seen.setdefault(elder_id, time.time())
                time.sleep(0.01)
            connection.close()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        base = DeviceEvent.objects.count()
        asyncio.run(publish_all(url, lat_msgs, rate=len(lat_msgs) / args.seconds, sent_at=sent_at))
        deadline = time.time() + 30
        while len([e for e in sent_at if e in seen]) < len(sent_at) and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        lat = sorted((seen[e] - t) * 1000 for e, t in sent_at.items() if e in seen)
        wait_count(base + total, stall=10)
        print(f"\n3. latency, 1 worker, {offered:,.0f} events/s offered (70% of its saturated rate) for {args.seconds}s,"
              f" {len(sent_at)} SOS from distinct homes:")
        if lat:
            print(f"   publish → alarm committed: p50 {statistics.median(lat):.0f} ms, p99 {_django.percentile(lat, 99):.0f}"
                  f" ms, max {lat[-1]:.0f} ms ({len(lat)}/{len(sent_at)} seen)")
        stop_workers(procs)

        # 2b. two workers, saturated
        procs, rate2, count, t_pub, n_msgs = saturated(2, url, args, env, tmp, homes)
        print(f"\n2. (continued) 2 workers: {count} of {args.events} events in {count / rate2:.1f}s = {rate2:,.0f} events/s"
              f"  ({rate2 / ceiling:.0%} of the ceiling, {rate2 / rate1:.2f}x one worker)")

        # 4. failover: kill one of the two under a paced load
        load = build(homes, int(0.5 * rate2 * args.seconds), args.per_message, "fo-")
        held = dict(IngestPartition.objects.values_list("partition", "owner"))
        victim = 0
        mine = {p for p, o in held.items() if o == f"bench-w{victim}"}
        killed: dict[str, float] = {}

        def killer():
            time.sleep(args.seconds / 3)
            procs[victim].send_signal(signal.SIGKILL)
            killed["at"] = time.time()

        threading.Thread(target=killer, daemon=True).start()
        taken: dict[int, float] = {}

        def observe():
            from django.db import connection
            while len(taken) < len(mine) and time.time() < (killed.get("at") or time.time()) + 60:
                if "at" in killed:
                    for p, owner, committed in IngestPartition.objects.filter(partition__in=mine).values_list(
                            "partition", "owner", "committed_at"):
                        if owner != f"bench-w{victim}" and committed and committed.timestamp() > killed["at"]:
                            taken.setdefault(p, time.time())
                time.sleep(0.05)
            connection.close()

        obs = threading.Thread(target=observe, daemon=True)
        obs.start()
        asyncio.run(publish_all(url, load, rate=len(load) / args.seconds))
        obs.join(timeout=70)
        print(f"\n4. failover: 2 workers at {0.5 * rate2:,.0f} events/s offered; bench-w{victim} (partitions"
              f" {sorted(mine)}) SIGKILLed at {args.seconds / 3:.0f}s (lease ttl 5 s):")
        if len(taken) == len(mine):
            print(f"   every partition of the dead worker consumed again after {max(taken.values()) - killed['at']:.1f}s"
                  f" (first: {min(taken.values()) - killed['at']:.1f}s)")
        else:
            print(f"   only {len(taken)} of {len(mine)} partitions consumed again within 60 s")
        stop_workers(procs)
    finally:
        stop_workers(RUNNING)
        server.stop()


if __name__ == "__main__":
    main()

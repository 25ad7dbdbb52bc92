"""Where one worker's time goes: ingest() on gateway batches, in-process (no broker), under pyinstrument.

    CARENET_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/carenet_ingestfast_bench \
        .venv/bin/python bench/ingest_profile.py [--path old|fast] [--events 30000] [--top 40]

Uses the district of bench/ingest_throughput.py (same database, same homes and devices); prints events/s and the
profile's top lines (the call tree, self-time filtered at 1%).
"""
import argparse
import json
import os
import time

import _django


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--homes", type=int, default=10_000)
    p.add_argument("--events", type=int, default=30_000)
    p.add_argument("--per-message", type=int, default=10)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--path", choices=["old", "fast"], default="fast")
    p.add_argument("--no-profile", action="store_true")
    args = p.parse_args()
    _django.setup("postgres://postgres@127.0.0.1:5432/carenet_ingest_bench")
    from django.db import connection
    from pyinstrument import Profiler

    import ingest_throughput as it
    from carenet.monitoring.ingest import RawMessage, ingest

    homes, _ = it.prepare_district(args.homes)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE devices_deviceevent, devices_quarantine, monitoring_alarmtransition, monitoring_alarm,"
                    " monitoring_monitorstate CASCADE")
    now = time.time()
    raws = []
    for topic, body, _, _ in it.messages(homes, args.events, args.per_message, f"prof{int(now)}"):
        it.stamp(body, now)
        raws.append(RawMessage(json.dumps(body).encode(), "mqtt", topic))
    profiler = None if args.no_profile else Profiler(interval=0.0005)
    if profiler:
        profiler.start()
    ingest(raws[:1], path=args.path)  # connects (the backend whose CPU is measured) and warms the caches
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    t0, c0, b0 = time.perf_counter(), time.process_time(), backend_cpu(backend)
    accepted = 0
    for i in range(1, len(raws), args.batch):
        accepted += ingest(raws[i:i + args.batch], path=args.path).accepted
    elapsed, cpu, db_cpu = time.perf_counter() - t0, time.process_time() - c0, backend_cpu(backend) - b0
    if profiler:
        profiler.stop()
    print(f"{args.path} path, in-process: {accepted} events in {elapsed:.2f}s = {accepted / elapsed:,.0f} events/s"
          f" ({len(raws)} messages, batches of {args.batch}); CPU per event: this process {cpu / accepted * 1e6:.0f} µs,"
          f" its PostgreSQL backend {db_cpu / accepted * 1e6:.0f} µs (wall {elapsed / accepted * 1e6:.0f} µs)")
    if profiler:
        print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total"))


def backend_cpu(pid: int) -> float:
    """CPU seconds of a local PostgreSQL backend (user + system, from /proc): the database's share per event,
    which the wall time alone mixes with whatever else the machine is running."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")  # the server is not on this machine


if __name__ == "__main__":
    main()

"""Liveness probe for the ingest worker: exit 0 when its heartbeat is fresh and it is making progress.

    carenet ingest_health [--client-id carenet-ingest-1 | --file PATH] [--max-age 15]

Exit 1 (and one line saying why) when the heartbeat file is missing or older than --max-age (the worker is
dead or hung), when the worker reports a problem, or when its database is unavailable. Use it from a systemd
timer, a container HEALTHCHECK or the monitoring system.
"""
import json
import os
import sys
import time

from django.core.management.base import BaseCommand

from carenet.monitoring.worker import default_health_file


def evaluate(path: str, max_age: float, now: float | None = None) -> tuple[bool, str]:
    now = now or time.time()
    try:
        with open(path) as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return False, f"no heartbeat file at {path}: the worker is not running"
    except (OSError, ValueError) as exc:
        return False, f"unreadable heartbeat file {path}: {exc}"
    age = now - float(data.get("time", 0))
    if age > max_age:
        return False, f"heartbeat is {age:.0f}s old (limit {max_age:.0f}s): the worker is dead or hung"
    if data.get("problem"):
        return False, f"worker problem: {data['problem']}"
    if data.get("database") != "ok":
        return False, "the worker cannot reach the database (it keeps messages unacknowledged and retries)"
    state = "connected" if data.get("mqtt_connected") else "NOT connected"
    return True, (f"ok: pid {data.get('pid')}, broker {state}, {data.get('waiting', 0)} waiting, "
                  f"last progress {data.get('seconds_since_progress')}s ago")


class Command(BaseCommand):
    help = "Liveness check of the ingest worker (exit 0 healthy, 1 not)."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", default=os.environ.get("CARENET_INGEST_CLIENT_ID", "carenet-ingest"))
        parser.add_argument("--file", default=None, help="the worker's --health-file")
        parser.add_argument("--max-age", type=float, default=15.0, help="seconds; the worker writes every second")

    def handle(self, *args, client_id, file, max_age, **opts):
        ok, message = evaluate(file or default_health_file(client_id), max_age)
        (self.stdout if ok else self.stderr).write(message)
        if not ok:
            sys.exit(1)

import logging
import os
import sys

from django.core.management.base import BaseCommand

from carenet.monitoring.worker import GIL_SWITCH_INTERVAL_S, STALL_TIMEOUT_S, IngestWorker, default_health_file


class Command(BaseCommand):
    help = "Run the device ingest worker: MQTT → rules → alarms (and the timer rules and escalations)."

    def add_arguments(self, parser):
        parser.add_argument("--mqtt", default=os.environ.get("CARENET_MQTT_URL", "mqtt://127.0.0.1:1883"))
        parser.add_argument("--client-id", default=os.environ.get("CARENET_INGEST_CLIENT_ID", "carenet-ingest"))
        parser.add_argument("--batch", type=int, default=100, help="messages per bulk transaction (shorter lock holds: lower SOS latency)")
        parser.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
        parser.add_argument("--max-seconds", type=float, default=None)
        parser.add_argument("--accept-old", action="store_true", help="accept events older than 7 days (replays)")
        parser.add_argument("--health-file", default=None, help="heartbeat file for `manage.py ingest_health` (default: var/ingest-<client id>.health.json, or $CARENET_INGEST_HEALTH_FILE)")
        parser.add_argument("--path", choices=["fast", "old"], default=None,
                            help="ingest implementation: fast (default; COPY, bulk state writes, orjson) or old (before issue 15, for benchmarks); default settings.CARENET_INGEST_PATH")
        parser.add_argument("--stall-timeout", type=float, default=STALL_TIMEOUT_S, help="exit non-zero when messages wait and no batch finishes for this many seconds")

    def handle(self, *args, mqtt, client_id, batch, idle_exit, max_seconds, accept_old, health_file, stall_timeout, path, **opts):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        worker = IngestWorker(mqtt, client_id=client_id, batch_size=batch, accept_old=accept_old,
                              health_file=health_file or default_health_file(client_id), stall_timeout=stall_timeout, path=path)
        worker.install_signal_handlers()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # the MQTT thread's turn comes sooner (worker.py)
        stats = worker.run(idle_exit=idle_exit, max_seconds=max_seconds)
        self.stdout.write("ingest stopped: " + " ".join(f"{k}={v}" for k, v in stats.items()))

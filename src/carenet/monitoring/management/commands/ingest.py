import logging
import os

from django.core.management.base import BaseCommand

from carenet.monitoring.worker import IngestWorker


class Command(BaseCommand):
    help = "Run the device ingest worker: MQTT → rules → alarms (and the timer rules and escalations)."

    def add_arguments(self, parser):
        parser.add_argument("--mqtt", default=os.environ.get("CARENET_MQTT_URL", "mqtt://127.0.0.1:1883"))
        parser.add_argument("--client-id", default=os.environ.get("CARENET_INGEST_CLIENT_ID", "carenet-ingest"))
        parser.add_argument("--batch", type=int, default=100, help="messages per bulk transaction (shorter lock holds: lower SOS latency)")
        parser.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
        parser.add_argument("--max-seconds", type=float, default=None)
        parser.add_argument("--accept-old", action="store_true", help="accept events older than 7 days (replays)")

    def handle(self, *args, mqtt, client_id, batch, idle_exit, max_seconds, accept_old, **opts):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        worker = IngestWorker(mqtt, client_id=client_id, batch_size=batch, accept_old=accept_old)
        worker.install_signal_handlers()
        stats = worker.run(idle_exit=idle_exit, max_seconds=max_seconds)
        self.stdout.write("ingest stopped: " + " ".join(f"{k}={v}" for k, v in stats.items()))

import os
import time

from django.core.management.base import BaseCommand, CommandError

from carenet.demo.runner import DirectSink, MqttSink, broker_answers, build_homes, run
from carenet.demo.simulator import Rates
from carenet.people.models import ElderProfile


class Command(BaseCommand):
    help = "Simulate daily routines in N homes and publish them (MQTT by default; --direct without a broker)."

    def add_arguments(self, parser):
        parser.add_argument("--homes", type=int, default=100)
        parser.add_argument("--mqtt", default=os.environ.get("CARENET_MQTT_URL", "mqtt://127.0.0.1:1883"))
        parser.add_argument("--direct", action="store_true", help="call the ingest path in-process (no broker)")
        parser.add_argument("--history-hours", type=float, default=0, help="first replay this many past hours fast")
        parser.add_argument("--speed", type=float, default=600, help="speed of the history replay")
        parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        parser.add_argument("--sos-per-day", type=float, default=0.02)
        parser.add_argument("--collapse-per-day", type=float, default=0.005)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, homes, mqtt, direct, history_hours, speed, duration, sos_per_day, collapse_per_day, seed, **o):
        elders = list(ElderProfile.objects.select_related("resident").order_by("id")[:homes])
        if not elders:
            raise CommandError("no elders: run `carenet seed` first")
        rates = Rates(sos_per_day=sos_per_day, collapse_per_day=collapse_per_day)
        sim_homes = build_homes(elders, rates, seed=seed)
        if not direct and not broker_answers(mqtt):
            raise CommandError(f"no MQTT broker at {mqtt}; start one or use --direct")
        sink = DirectSink(accept_old=True) if direct else MqttSink(mqtt)
        self.stdout.write(f"simulating {len(sim_homes)} homes via {'direct ingest' if direct else mqtt}")
        start = time.time() - history_hours * 3600

        def on_step(sim, n):
            if n:
                self.stdout.write(f"  {time.strftime('%H:%M:%S', time.localtime(sim))}  +{n} events  total {sink.sent}")

        try:
            run(sim_homes, sink, start=start, speed=speed, duration=duration, on_step=on_step)
        except KeyboardInterrupt:
            pass
        finally:
            sink.close()
        self.stdout.write(f"sent {sink.sent} events")

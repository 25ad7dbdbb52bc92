"""The demo's background services: simulated homes, the ingest worker and the timer rules.

With an MQTT broker on CARENET_MQTT_URL (default 127.0.0.1:1883) the simulator publishes to it and the real
ingest worker consumes from it. Without one, the simulator calls the same ingest path in-process and a
ticker runs the timer rules. The first day of history is replayed fast in the background.
"""
import io
import logging
import os
import threading
import time

from django.core.management.base import BaseCommand
from django.db import connection

from carenet.demo.runner import DirectSink, MqttSink, broker_answers, build_homes, run
from carenet.demo.simulator import Rates
from carenet.monitoring import timers
from carenet.monitoring.worker import IngestWorker
from carenet.people.models import ElderProfile, Household

log = logging.getLogger("carenet.demo")


class Command(BaseCommand):
    help = "Run simulated homes plus the ingest worker and timer rules for the demo."

    def add_arguments(self, parser):
        parser.add_argument("--homes", type=int, default=int(os.environ.get("CARENET_DEMO_HOMES", "60")))
        parser.add_argument("--mqtt", default=os.environ.get("CARENET_MQTT_URL", "mqtt://127.0.0.1:1883"))
        parser.add_argument("--history-hours", type=float, default=24)
        parser.add_argument("--sos-per-day", type=float, default=3.0, help="per home, high so the demo shows alarms")
        parser.add_argument("--duration", type=float, default=None)

    def handle(self, *args, homes, mqtt, history_hours, sos_per_day, duration, **opts):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        elders = list(ElderProfile.objects.select_related("resident").order_by("id")[:homes])
        rates = Rates(sos_per_day=sos_per_day, collapse_per_day=0.05, smoke_per_day=0.05)
        sim_homes = build_homes(elders, rates, seed=int(time.time() // 86400))
        stop = threading.Event()
        # Timer rules judge silence against the real clock, so they wait until the history has been replayed.
        caught_up = threading.Event()
        use_mqtt = broker_answers(mqtt)
        threads = []
        if use_mqtt:
            # One broker session per installation: a re-seeded database must not inherit another one's queue.
            first = Household.objects.order_by("pk").values_list("created", flat=True).first()
            worker = IngestWorker(mqtt, client_id=f"carenet-demo-ingest-{int(first.timestamp()) if first else 0}")
            worker.stop = stop
            worker.tick_gate.clear()

            def open_gate():  # tick only once the worker has also worked through the replayed history
                caught_up.wait()
                while not stop.is_set() and (worker.inbox.qsize() or worker.pending):
                    time.sleep(0.5)
                worker.tick_gate.set()
                self.stdout.write("demo devices: backlog processed, timer rules running")
            threads.append(threading.Thread(target=open_gate, name="gate", daemon=True))
            threads.append(threading.Thread(target=worker.run, name="ingest", daemon=True))
            sink = MqttSink(mqtt)
            self.stdout.write(f"demo devices: {len(sim_homes)} homes over MQTT at {mqtt}")
        else:
            sink = DirectSink()
            threads.append(threading.Thread(target=self._ticker, args=(stop, caught_up), name="ticker", daemon=True))
            self.stdout.write(f"demo devices: {len(sim_homes)} homes, embedded ingest path (no MQTT broker at {mqtt})")
        # The replayed history teaches each home's routine; emergencies happen only from now on, so the
        # console does not open on a day's worth of stale SOS presses.
        sink = _LiveEmergenciesOnly(sink, live_from=time.time())
        threads.append(threading.Thread(target=self._scheduled_passes, args=(stop,), name="scheduled", daemon=True))
        for t in threads:
            t.start()
        def on_step(sim, n):
            if not caught_up.is_set() and sim >= time.time() - 5:
                caught_up.set()
                self.stdout.write("demo devices: history replayed, running in real time")

        try:
            run(sim_homes, sink, start=time.time() - history_hours * 3600, speed=3600, duration=duration, stop=stop,
                on_step=on_step)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            sink.close()
            for t in threads:
                t.join(timeout=5)

    @staticmethod
    def _ticker(stop, gate):
        try:
            while not stop.wait(1.0):
                if not gate.is_set():
                    continue
                try:
                    timers.run_tick()
                except Exception:  # keep the demo running; the next tick retries
                    log.exception("tick failed")
        finally:
            connection.close()


    @staticmethod
    def _scheduled_passes(stop, every_s: float = 600.0):
        """The scheduled passes a deployment runs from cron (docs/operations.md), every 10 minutes in the demo:
        home care (visit plans, escalation, recurring orders, SMS reminders) and the escalation of overdue
        dynamic-monitoring tasks (动态监测) to the township."""
        from django.core.management import call_command

        try:
            while True:
                for command in ("homecare_tick", "matching_escalate"):
                    try:
                        call_command(command, stdout=io.StringIO())
                    except Exception:  # keep the demo running; the next pass retries
                        log.exception("scheduled pass %s failed", command)
                if stop.wait(every_s):
                    break
        finally:
            connection.close()


class _LiveEmergenciesOnly:
    EMERGENCY_KINDS = {"sos", "fall", "smoke", "water_leak"}

    def __init__(self, sink, live_from: float):
        self.sink, self.live_from = sink, live_from

    def send(self, events):
        self.sink.send([e for e in events if e.ts >= self.live_from or e.kind not in self.EMERGENCY_KINDS])

    @property
    def sent(self):
        return self.sink.sent

    def close(self):
        self.sink.close()

"""Replay a real ADL sensor log (../shared/data/adl) through the real ingest path, at any speed."""
import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carenet.demo.runner import DirectSink, MqttSink, broker_answers
from carenet.demo.simulator import SimEvent
from carenet.devices.models import Device, demo_token, hash_token
from carenet.monitoring import adl
from carenet.people.models import ElderProfile

KIND_TO_TYPE = {"motion": "pir", "door": "door", "seat": "seat", "appliance": "plug", "toilet_flush": "toilet",
                "bed": "mattress"}


class Command(BaseCommand):
    help = ("Replay an ADL dataset (ordonez_a, kasteren_a), or any home given as a sensor log and a mapping file "
            "(--mapping FILE, docs/monitoring-evaluation.md), as device messages, shifted so that it ends now.")

    def add_arguments(self, parser):
        parser.add_argument("dataset", nargs="?", choices=["ordonez_a", "kasteren_a"])
        parser.add_argument("--mapping", help="JSON mapping of a sensor log (any home, any vendor)")
        parser.add_argument("--elder", type=int, required=True, help="the ElderProfile id whose home this becomes")
        parser.add_argument("--speed", type=float, default=0, help="x real time; 0 = as fast as possible")
        parser.add_argument("--mqtt", default=os.environ.get("CARENET_MQTT_URL", "mqtt://127.0.0.1:1883"))
        parser.add_argument("--direct", action="store_true", help="call the ingest path in-process (no broker)")
        parser.add_argument("--root", default=str(adl.DEFAULT_ROOT))

    def handle(self, *args, dataset, elder, speed, mqtt, direct, root, mapping=None, **opts):
        if bool(dataset) == bool(mapping):
            raise CommandError("请给出数据集名称或 --mapping 映射文件(二者取一)")
        try:
            profile = ElderProfile.objects.get(pk=elder)
        except ElderProfile.DoesNotExist:
            raise CommandError(f"no elder {elder}") from None
        try:
            ds = adl.load_mapped(mapping) if mapping else adl.load(dataset, root)
        except adl.MappingError as exc:
            raise CommandError(str(exc)) from None
        dataset = dataset or ds.name
        shift = time.time() - ds.end - 60
        devices = self._devices(ds, profile, dataset)
        if not direct and not broker_answers(mqtt):
            raise CommandError(f"no MQTT broker at {mqtt}; start one or use --direct")
        # Events are days old once shifted, so the MQTT worker must run with --accept-old for a replay.
        sink = DirectSink(accept_old=True) if direct else MqttSink(mqtt)
        self.stdout.write(f"replaying {len(ds.events)} events of {dataset} ({len(ds.dates_with_events())} days) "
                          f"into elder {profile.pk} via {'direct ingest' if direct else mqtt}")
        wall0, t0 = time.time(), ds.start
        batch: list[SimEvent] = []
        for i, e in enumerate(ds.events):
            if speed > 0:
                due = wall0 + (e.ts - t0) / speed
                if due > time.time():
                    if batch:
                        sink.send(batch)
                        batch = []
                    time.sleep(due - time.time())
            value = dict(e.value)
            value.pop("role", None)     # the registry holds role and semantics, as for a real device
            batch.append(SimEvent(e.ts + shift, devices[e.device_id], e.kind, value, f"{dataset}-{e.event_id}"))
            if len(batch) >= 500:
                sink.send(batch)
                batch = []
            if i and i % 5000 == 0:
                self.stdout.write(f"  {i}/{len(ds.events)}")
        if batch:
            sink.send(batch)
        sink.close()
        self.stdout.write(f"sent {sink.sent} events in {time.time() - wall0:.1f}s")

    @transaction.atomic
    def _devices(self, ds, profile, dataset) -> dict[str, str]:
        """One registered device per sensor of the log, bound to the elder's home."""
        mapping = {}
        for e in ds.events:
            if e.device_id in mapping:
                continue
            device_id = f"adl-{profile.pk}-{e.device_id}"[:64]
            spec = ds.sensors.get(e.device_id)
            Device.objects.update_or_create(device_id=device_id, defaults={
                "type": KIND_TO_TYPE.get(e.kind, "pir"), "elder": profile, "room": e.room or "",
                "role": (e.value or {}).get("role") or "", "token_hash": hash_token(demo_token(device_id)),
                "semantics": spec.semantics if spec else "state", "hold_s": int(spec.hold_s) if spec and spec.hold_s else None})
            mapping[e.device_id] = device_id
        return mapping

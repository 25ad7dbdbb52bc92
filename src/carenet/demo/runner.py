"""Drives simulated or replayed devices into the system: over MQTT to a real broker, or straight into the
ingest path when no broker is running (the embedded demo)."""
from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections import defaultdict

from carenet.demo.simulator import Home, Rates, SimEvent, kit_key
from carenet.devices.models import Device, demo_token
from carenet.devices.services import provision_demo_home
from carenet.monitoring.ingest import RawMessage, ingest
from carenet.monitoring.worker import parse_mqtt_url

log = logging.getLogger("carenet.simulate")


def broker_answers(url: str) -> bool:
    host, port = parse_mqtt_url(url)
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def payload(device_id: str, events: list[SimEvent]) -> bytes:
    return json.dumps({"token": demo_token(device_id), "events": [
        {"id": e.event_id, "ts": round(e.ts, 3), "kind": e.kind, "value": e.value} for e in events]}).encode()


def by_device(events: list[SimEvent]) -> dict[str, list[SimEvent]]:
    grouped = defaultdict(list)
    for e in events:
        grouped[e.device_id].append(e)
    return grouped


class MqttSink:
    def __init__(self, url: str):
        import paho.mqtt.client as mqtt

        host, port = parse_mqtt_url(url)
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"carenet-sim-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port)
        self.client.loop_start()
        self.sent = 0

    def send(self, events: list[SimEvent]) -> None:
        for device_id, evs in by_device(events).items():
            self.client.publish(f"carenet/v1/dev/{device_id}/up", payload(device_id, evs), qos=1)
            self.sent += len(evs)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class DirectSink:
    """The embedded path: the same ingest() the MQTT worker calls, without a broker."""

    def __init__(self, accept_old: bool = False):
        self.accept_old = accept_old
        self.sent = 0

    def send(self, events: list[SimEvent]) -> None:
        raws = [RawMessage(payload(d, evs), "mqtt", f"carenet/v1/dev/{d}/up") for d, evs in by_device(events).items()]
        for i in range(0, len(raws), 200):
            ingest(raws[i:i + 200], accept_old=self.accept_old)
        self.sent += len(events)

    def close(self) -> None:
        pass


def build_homes(elders, rates: Rates, seed: int = 1) -> list[Home]:
    homes = []
    for elder in elders:
        devices = list(Device.objects.filter(elder=elder, active=True)) or provision_demo_home(elder, wristband=elder.dementia)
        homes.append(Home(elder.pk, {kit_key(d.type, d.room, d.role): d.device_id for d in devices}, seed=seed, rates=rates))
    return homes


MAX_WINDOW_S = 120.0  # simulated seconds per send, so events of one home reach the rules in time order


def run(homes: list[Home], sink, *, start: float, speed: float, duration: float | None, step: float = 1.0,
        stop=None, on_step=None) -> int:
    """Emit events from simulated time `start`, `speed` times faster than the wall clock, never ahead of now.

    When simulated time catches up with the clock it continues in real time (speed 1).
    """
    sim = start
    wall0 = time.time()
    while stop is None or not stop.is_set():
        now = time.time()
        target = min(now, start + (now - wall0) * speed)
        if target - sim >= step or target >= now - 0.001:
            sent = 0
            while sim < target:
                upto = min(target, sim + MAX_WINDOW_S)
                events = []
                for home in homes:
                    events.extend(home.events_between(sim, upto))
                if events:
                    events.sort(key=lambda e: e.ts)
                    sink.send(events)
                    sent += len(events)
                sim = upto
            if on_step:
                on_step(sim, sent)
        if duration is not None and time.time() - wall0 >= duration:
            break
        time.sleep(min(step, 0.25))
    return sink.sent

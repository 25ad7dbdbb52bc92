"""Partitioned ingest on a real nats-server (JetStream + its MQTT listener) and PostgreSQL (docs/scale-out.md).

Three workers share the partitions; 1,000 homes stream events; one worker is SIGKILLed mid-stream (and, in the
second test, nats-server restarts mid-stream). Afterwards every event is stored exactly once, each elder's
events were stored in the order the home sent them, every SOS raised one alarm, and every partition (the dead
worker's too) is held by a live worker and committed up to the stream's last message.
"""
import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command

from carenet.devices.models import Device, DeviceEvent, Quarantine, demo_token, hash_token
from carenet.monitoring.localnats import PrivateNats
from carenet.monitoring.models import Alarm, IngestPartition
from carenet.monitoring.partitioned import STREAM, home_topic
from carenet.people.models import ElderProfile

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 12
HOMES = 1000
ROUNDS = 3            # messages per home (gateway batches)
PER_MESSAGE = 3       # events per gateway message
SOS_EVERY = 10        # every 10th home presses SOS once, in the middle of its stream


def port_pair() -> tuple[int, int]:
    """Two free ports in this suite's range (14200-14299), never 4222."""
    for port in range(14220, 14298, 2):
        try:
            for p in (port, port + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port, port + 1
        except OSError:
            continue
    raise RuntimeError("no free port pair in 14220-14299")


@pytest.fixture
def nats_server(tmp_path):
    server = PrivateNats(tmp_path, *port_pair(), partitions=PARTITIONS).start()
    yield server
    server.stop()


def make_homes(n: int) -> list[dict]:
    """n homes, each with a gateway relaying a motion sensor, and an SOS button publishing alone."""
    call_command("seed", elders=n, seed=7, no_users=True, stdout=open("/dev/null", "w"))
    homes, rows = [], []
    for e in ElderProfile.objects.order_by("id").values_list("id", flat=True)[:n]:
        h = {"elder": e, "gw": f"N{e}-gw", "pir": f"N{e}-pir", "sos": f"N{e}-sos"}
        for did, type_ in ((h["gw"], "gateway"), (h["pir"], "pir"), (h["sos"], "sos_button")):
            rows.append(Device(device_id=did, type=type_, elder_id=e, room="living", token_hash=hash_token(demo_token(did))))
        homes.append(h)
    Device.objects.bulk_create(rows, batch_size=2000)
    return homes


def stream_messages(homes: list[dict]) -> tuple[list[tuple[str, bytes, str]], dict, set]:
    """(subject, payload, msg id) in publish order, the event ids each elder must end with, the SOS elders.

    Timestamps are an hour old and rise with the home's sequence: nothing takes the urgent lane, so every event
    keeps its home's order, which the test checks."""
    base = time.time() - 3600
    out, expected, sos_elders = [], defaultdict(list), set()
    for r in range(ROUNDS):
        for i, h in enumerate(homes):
            e = h["elder"]
            events = [{"device_id": h["pir"], "id": f"{e}-{r * PER_MESSAGE + j:03d}", "kind": "motion",
                       "ts": base + r * PER_MESSAGE + j, "value": {"motion": True}} for j in range(PER_MESSAGE)]
            subject = f"carenet.v1.home.{e}.dev.{h['gw']}.up"
            out.append((subject, json.dumps({"token": demo_token(h["gw"]), "events": events}).encode(), f"{e}-m{r}"))
            expected[e] += [ev["id"] for ev in events]
            if i % SOS_EVERY == 0 and r == ROUNDS // 2:
                sos = {"id": f"{e}-{r * PER_MESSAGE + PER_MESSAGE:03d}s", "kind": "sos",
                       "ts": base + r * PER_MESSAGE + PER_MESSAGE - 0.5}
                out.append((f"carenet.v1.home.{e}.dev.{h['sos']}.up",
                            json.dumps({"token": demo_token(h["sos"]), "events": [sos]}).encode(), f"{e}-s"))
                expected[e].append(sos["id"])
                sos_elders.add(e)
    return out, expected, sos_elders


class Publisher(threading.Thread):
    """Publishes with JetStream acknowledgements, at a steady pace, retrying through a broker restart (the
    Nats-Msg-Id header makes a retry of a stored message a no-op). Records each message's stream sequence."""

    def __init__(self, url, messages, rate=1500):
        super().__init__(daemon=True)
        self.url, self.messages, self.rate = url, messages, rate
        self.sent = 0
        self.retries = 0
        self.error = None

    def run(self):
        try:
            asyncio.run(self._run())
        except Exception as exc:  # surfaced by the test
            self.error = exc

    async def _run(self):
        import nats

        nc = await nats.connect(self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
        js = nc.jetstream()
        start = time.monotonic()
        for i, (subject, payload, msg_id) in enumerate(self.messages):
            while True:
                try:
                    await js.publish(subject, payload, timeout=2, headers={"Nats-Msg-Id": msg_id})
                    break
                except Exception:
                    self.retries += 1
                    await asyncio.sleep(0.2)
            self.sent = i + 1
            ahead = (i + 1) / self.rate - (time.monotonic() - start)
            if ahead > 0:
                await asyncio.sleep(ahead)
        await nc.close()


def start_worker(env, url, name, ttl=3.0):
    cmd = [sys.executable, str(ROOT / "manage.py"), "ingest_worker", "--nats", url, "--name", name,
           "--partitions", str(PARTITIONS), "--batch", "50", "--lease-ttl", str(ttl), "--bulk-threads", "1"]
    log = open(env["CARENET_TEST_LOG_DIR"] + f"/{name}.log", "w")
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def wait_for_progress(measure, done, stall: float, interval=0.2) -> bool:
    """Wait while `measure()` keeps changing: False only when it stood still for `stall` seconds before `done()`.
    A loaded machine may store slowly; a lost message stops the count for good, whatever the budget."""
    last, since = measure(), time.time()
    while not done():
        time.sleep(interval)
        now = measure()
        if now != last:
            last, since = now, time.time()
        elif time.time() - since > stall:
            return False
    return True


def takeover_log(log_dir) -> str:
    """What the workers said about partitions changing hands (offset at takeover, first fetch, losses)."""
    lines = []
    for path in sorted(Path(log_dir).glob("w*.log")):
        lines += [f"{path.stem}: {line.rstrip()}" for line in path.read_text(errors="replace").splitlines()
                  if any(k in line for k in ("epoch", "leases of", "lost", "expected consumer"))]
    return "\n".join(lines[-80:])


def owners() -> dict[int, str]:
    return dict(IngestPartition.objects.filter(stream=STREAM).values_list("partition", "owner"))


def stream_tail() -> dict[int, int]:
    return dict(IngestPartition.objects.filter(stream=STREAM).values_list("partition", "last_seq"))


async def _last_seq_per_partition(url) -> dict[int, int]:
    """Read the whole stream once: the highest sequence of each partition."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("carenet.part.>", stream=STREAM, config=ConsumerConfig(
        deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
    last: dict[int, int] = {}
    while True:
        try:
            msgs = await sub.fetch(1000, timeout=1)
        except (asyncio.TimeoutError, nats.errors.TimeoutError):
            break
        for m in msgs:
            p = int(m.subject.split(".")[2])
            last[p] = max(last.get(p, 0), m.metadata.sequence.stream)
    await nc.close()
    return last


def check_outcome(homes, expected, sos_elders, url):
    """Exactly once, in each home's order, one alarm per SOS, every partition committed to the stream's end."""
    total = sum(len(v) for v in expected.values())
    assert DeviceEvent.objects.count() == total
    by_elder = defaultdict(list)
    for elder, event_id in DeviceEvent.objects.order_by("pk").values_list("device__elder_id", "event_id"):
        by_elder[elder].append(event_id)
    for elder, ids in expected.items():
        # stored (and run through the rules) in the order the home sent them: the sequence in the id rises
        assert by_elder[elder] == ids, f"elder {elder}: stored {by_elder[elder][:12]}..., sent {ids[:12]}..."
    assert not Quarantine.objects.exists(), list(Quarantine.objects.values_list("reason", "detail")[:5])
    sos = list(Alarm.objects.filter(type="sos").values_list("elder_id", "count"))
    assert sorted(e for e, _ in sos) == sorted(sos_elders) and {c for _, c in sos} == {1}
    last = asyncio.run(_last_seq_per_partition(url))
    assert stream_tail() == {p: last.get(p, 0) for p in range(PARTITIONS)}


def run_scenario(subprocess_env, nats_server, tmp_path, disrupt):
    subprocess_env["CARENET_TEST_LOG_DIR"] = str(tmp_path)
    t0 = time.monotonic()
    homes = make_homes(HOMES)
    messages, expected, sos_elders = stream_messages(homes)
    print(f"\n{HOMES} homes made in {time.monotonic() - t0:.1f} s")
    workers = {name: start_worker(subprocess_env, nats_server.url, name) for name in ("w1", "w2", "w3")}
    try:
        assert wait_for(lambda: len(owners()) == PARTITIONS and set(owners().values()) == set(workers), 60), \
            f"the three workers did not share the partitions: {owners()}"
        pub = Publisher(nats_server.url, messages)
        pub.start()
        total = sum(len(v) for v in expected.values())
        assert wait_for(lambda: DeviceEvent.objects.count() > total // 4, 120), "nothing stored"
        info = disrupt(workers)
        pub.join(timeout=120)
        assert pub.error is None and pub.sent == len(messages), (pub.error, pub.sent)
        progress = lambda: (DeviceEvent.objects.count(), sorted(stream_tail().items()))  # noqa: E731
        assert wait_for_progress(progress, lambda: DeviceEvent.objects.count() >= total, stall=60), \
            f"{DeviceEvent.objects.count()} of {total} events stored, nothing new for 60 s; committed offsets " \
            f"{stream_tail()}\n{takeover_log(tmp_path)}"
        print(f"{total} events stored, {time.monotonic() - t0:.1f} s from the start; publisher retries: {pub.retries}")
        time.sleep(2)  # let a late duplicate show, if there were one
        check_outcome(homes, expected, sos_elders, nats_server.url)
        leases = {r["partition"]: r for r in IngestPartition.objects.filter(stream=STREAM).values()}
        return info, leases  # before the workers stop (a graceful stop hands the partitions back)
    finally:
        for w in workers.values():
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers.values():
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()


def test_three_workers_sigkill_one_mid_stream(subprocess_env, nats_server, tmp_path):
    def kill_one(workers):
        held = owners()
        victim = max(workers, key=lambda n: sum(1 for o in held.values() if o == n))
        mine = {p for p, o in held.items() if o == victim}
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait(timeout=10)
        killed_at = time.time()
        survivors = set(workers) - {victim}
        assert wait_for(lambda: all(owners()[p] in survivors for p in mine), 30), \
            f"partitions {sorted(mine)} of {victim} not taken over: {owners()}"
        print(f"\n{victim} held {sorted(mine)}; taken over by the others {time.time() - killed_at:.1f} s after the kill")
        return victim, mine, survivors

    (victim, mine, survivors), rows = run_scenario(subprocess_env, nats_server, tmp_path, kill_one)
    assert all(rows[p]["owner"] in survivors and rows[p]["epoch"] >= 2 for p in mine)


def test_nats_server_restart_mid_stream(subprocess_env, nats_server, tmp_path):
    def restart(workers):
        nats_server.restart(down_for=1.0)
        return None

    run_scenario(subprocess_env, nats_server, tmp_path, restart)


def test_a_device_over_mqtt_reaches_an_alarm_through_the_partitions(subprocess_env, nats_server, tmp_path, home):
    """The device side: MQTT to nats-server's own listener, on the home topic; a district-style topic and a
    topic naming another home are quarantined with the reason, never lost."""
    import paho.mqtt.client as mqtt

    subprocess_env["CARENET_TEST_LOG_DIR"] = str(tmp_path)
    sos, pir = home.device("sos_button"), home.device("pir", "living")
    worker = start_worker(subprocess_env, nats_server.url, "solo")
    try:
        assert wait_for(lambda: set(owners().values()) == {"solo"}, 60)
        client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="dev-sos",
                             protocol=mqtt.MQTTv311)
        client.connect("127.0.0.1", nats_server.mqtt_port)
        client.loop_start()

        def send(topic, device, event_id, kind, value=None):
            body = {"token": demo_token(device.device_id),
                    "events": [{"id": event_id, "ts": time.time(), "kind": kind, "value": value or {}}]}
            client.publish(topic, json.dumps(body), qos=1).wait_for_publish(10)

        send(home_topic(pir), pir, "m1", "motion", {"motion": True})
        send(home_topic(sos), sos, "s1", "sos")
        send(f"carenet/v1/dev/{pir.device_id}/up", pir, "legacy", "motion", {"motion": True})
        send(f"carenet/v1/home/{sos.elder_id + 99999}/dev/{sos.device_id}/up", sos, "elsewhere", "sos")
        client.loop_stop()
        client.disconnect()
        assert wait_for(lambda: Alarm.objects.filter(type="sos", elder=home.elder).exists(), 30)
        assert wait_for(lambda: Quarantine.objects.count() == 2, 30)
        assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {"m1", "s1"}
        assert Alarm.objects.get(type="sos").count == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

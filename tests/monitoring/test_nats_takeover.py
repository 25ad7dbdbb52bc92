"""Partition takeover on a real nats-server and PostgreSQL, at the level of one partition (natsworker.py).

The regression of 2026-12-07: a worker whose heartbeat stalled (a loaded machine) lost its lease, and the new
owner re-created the partition's consumer under the same durable name. The old owner's fetch loop, not yet
aware of the loss, kept pulling from that consumer: the messages it pulled were never stored (its commit was
refused, rightly) and never acknowledged, while the new owner committed the messages after them, so its offset
passed over them and their redelivery 60 s later was skipped by sequence: lost. The consumer's name now carries
the lease's epoch, so a former owner can only pull from a consumer that no longer exists.
"""
import asyncio
import json
import socket
import time
from types import SimpleNamespace

import pytest
from django.utils import timezone

from carenet.devices.models import DeviceEvent, demo_token
from carenet.monitoring import partitioned
from carenet.monitoring.localnats import PrivateNats
from carenet.monitoring.models import Alarm, IngestMember, IngestPartition
from carenet.monitoring.natsworker import NatsIngestWorker, ensure_stream

S = partitioned.STREAM


def free_port() -> int:
    """A free port in the nats tests' range (14200-14299; test_nats_ingest.py takes pairs from 14220 up)."""
    for port in range(14200, 14220):
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port in 14200-14219")


@pytest.fixture
def nats_url(tmp_path):
    server = PrivateNats(tmp_path, free_port(), partitions=1).start()
    yield server.url
    server.stop()


def body(device, n: int) -> bytes:
    """One motion event, an hour old (the ordered bulk lane), numbered so order and gaps show."""
    return json.dumps({"token": demo_token(device.device_id), "events": [
        {"id": f"m{n:04d}", "ts": time.time() - 3600 + n * 0.001, "kind": "motion", "value": {"motion": True}}]}
    ).encode()


async def until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def start(worker: NatsIngestWorker) -> None:
    import nats

    worker.stop = asyncio.Event()
    worker.nc = await nats.connect(worker.url)
    worker.js = worker.nc.jetstream()


async def close(*workers: NatsIngestWorker) -> None:
    for w in workers:
        w.stop.set()
    await asyncio.gather(*(t for w in workers for t in w.tasks.values()), return_exceptions=True)
    for w in workers:
        await w.nc.close()
        for pool in w.pools.values():
            pool.shutdown(wait=True)


async def take(worker: NatsIngestWorker) -> int:
    """One lease round of this worker, and a consumer task for partition 0 if it took it (as lease_loop does)."""
    changes = await worker.db("lease", partitioned.lease_round, S, worker.name, 1, dict(worker.held), ttl=3.0)
    epoch, last_seq = changes.acquired[0]
    worker.held[0] = epoch
    worker.tasks[0] = asyncio.create_task(worker.consume(0, epoch, last_seq))
    return epoch


async def scenario(url: str, device, before: int, after: int) -> dict:
    a = NatsIngestWorker(url, name="A", partitions=1, batch=5, fetch_wait=0.2, ttl=3.0)
    b = NatsIngestWorker(url, name="B", partitions=1, batch=5, fetch_wait=0.2, ttl=3.0)
    await start(a)
    await start(b)
    try:
        await ensure_stream(a.js, S)
        await a.db("lease", partitioned.ensure_partitions, S, 1)
        subject = f"carenet.part.0.{device.elder_id}.{device.device_id}"

        async def stored(n):
            return await a.db("lease", DeviceEvent.objects.count) >= n

        await take(a)
        for n in range(before):
            await a.js.publish(subject, body(device, n))
        assert await until(lambda: stored(before), 30), "A did not store the first messages"

        # A's heartbeat stalls: its lease expires and B takes the partition over, while A's fetch loop runs on
        # (A never runs another lease round here, as a starved process would not).
        def expire():
            IngestPartition.objects.filter(stream=S, partition=0).update(lease_until=timezone.now())
            IngestMember.objects.filter(stream=S, name="A").update(seen=timezone.now() - timezone.timedelta(60))
        await a.db("lease", expire)
        epoch_b = await take(b)
        await asyncio.sleep(0.5)  # both fetch loops are pulling now
        last = 0
        for n in range(before, before + after):
            last = (await a.js.publish(subject, body(device, n))).seq
            await asyncio.sleep(0.005)

        async def committed():
            row = await a.db("lease", IngestPartition.objects.get, stream=S, partition=0)
            return row.last_seq >= last
        await until(committed, 30)
        row = await a.db("lease", IngestPartition.objects.get, stream=S, partition=0)
        ids = await a.db("lease", lambda: list(DeviceEvent.objects.order_by("pk").values_list("event_id", flat=True)))
        return {"epoch_b": epoch_b, "owner": row.owner, "last_seq": row.last_seq, "last": last, "ids": ids,
                "a": dict(a.stats), "b": dict(b.stats)}
    finally:
        await close(a, b)


@pytest.mark.nats
@pytest.mark.postgres
def test_a_former_owner_still_fetching_cannot_take_messages_from_the_new_owner(transactional_db, home, nats_url):
    pir = home.device("pir", "living")
    before, after = 20, 200
    out = asyncio.run(scenario(nats_url, pir, before, after))
    assert out["owner"] == "B" and out["last_seq"] == out["last"]
    # every message stored once, in the order sent: none pulled away by A and passed over by B's offset
    assert out["ids"] == [f"m{n:04d}" for n in range(before + after)], (out["a"], out["b"])
    assert out["a"]["accepted"] == before and out["b"]["accepted"] == after


def fetched(*seqs):
    """Fetched messages with (consumer seq, stream seq) metadata."""
    return [SimpleNamespace(metadata=SimpleNamespace(sequence=SimpleNamespace(consumer=c, stream=s)))
            for c, s in seqs]


def test_a_hole_in_the_consumer_sequence_keeps_only_what_came_before_it():
    """Deliveries of a lease's consumer all come to its owner: a hole means some went elsewhere."""
    ok = fetched((4, 40), (5, 43), (6, 44))
    assert NatsIngestWorker.in_sequence(0, 1, ok, 4, 39) == (ok, False)
    holed = fetched((4, 40), (6, 44))                   # delivery 5 went to another subscriber
    assert NatsIngestWorker.in_sequence(0, 1, holed, 4, 39) == (holed[:1], True)
    late = fetched((1, 12))                             # the first fetch of a new consumer must be delivery 1 ...
    assert NatsIngestWorker.in_sequence(0, 1, fetched((2, 12)), 1, 10) == ([], True)
    assert NatsIngestWorker.in_sequence(0, 1, late, 1, 12) == ([], True)   # ... and above the committed offset


async def backlog_scenario(url: str, pir, sos, backlog: int, lookahead: bool) -> dict:
    w = NatsIngestWorker(url, name="W", partitions=1, batch=5, fetch_wait=0.2, ttl=3.0, lookahead=lookahead)
    await start(w)
    try:
        await ensure_stream(w.js, S)
        await w.db("lease", partitioned.ensure_partitions, S, 1)
        for n in range(backlog):
            await w.js.publish(f"carenet.part.0.{pir.elder_id}.{pir.device_id}", body(pir, n))
        press = json.dumps({"token": demo_token(sos.device_id),
                            "events": [{"id": "sos-1", "ts": time.time(), "kind": "sos"}]}).encode()
        sos_seq = (await w.js.publish(f"carenet.part.0.{sos.elder_id}.{sos.device_id}", press)).seq
        await take(w)

        async def alarmed():
            return await w.db("lease", Alarm.objects.filter(type="sos").exists)
        assert await until(alarmed, 120), "no SOS alarm"
        at_alarm = (await w.db("lease", IngestPartition.objects.get, stream=S, partition=0)).last_seq

        async def drained():
            return (await w.db("lease", IngestPartition.objects.get, stream=S, partition=0)).last_seq >= sos_seq
        assert await until(drained, 120), "the backlog was not stored"
        ids = await w.db("lease", lambda: list(DeviceEvent.objects.order_by("pk").values_list("event_id", flat=True)))
        alarms = await w.db("lease", lambda: list(Alarm.objects.filter(type="sos").values_list("count", flat=True)))
        return {"sos_seq": sos_seq, "at_alarm": at_alarm, "ids": ids, "alarms": alarms, "stats": dict(w.stats)}
    finally:
        await close(w)


@pytest.mark.nats
@pytest.mark.postgres
def test_an_sos_behind_a_backlog_is_stored_before_the_backlog(transactional_db, home, nats_url, monkeypatch):
    """The look-ahead consumer: an SOS published after 300 ordinary messages raises its alarm while the partition's
    committed offset is still far before it (the bulk lane stores slowly here), and is stored once."""
    real = partitioned.ingest_batch

    def slow_bulk(*args, advance=True, **kw):
        if advance:
            time.sleep(0.2)   # a loaded database: 5 messages per 0.2 s, so the backlog takes 12 s or more
        return real(*args, advance=advance, **kw)

    monkeypatch.setattr(partitioned, "ingest_batch", slow_bulk)
    pir, sos = home.device("pir", "living"), home.device("sos_button")
    out = asyncio.run(backlog_scenario(nats_url, pir, sos, 300, lookahead=True))
    # without the look-ahead the fetcher sees the SOS only (PREFETCH + 1) batches of 5 before the offset reaches it
    assert out["at_alarm"] < out["sos_seq"] - 100, out
    assert out["stats"]["urgent_ahead"] == 1 and out["alarms"] == [1]
    assert [i for i in out["ids"] if i != "sos-1"] == [f"m{n:04d}" for n in range(300)] and "sos-1" in out["ids"]

"""Partition leases and the offset committed with the data (monitoring/partitioned.py), without a broker."""
import datetime as dt
import json
import time

import pytest
from django.utils import timezone

from carenet.devices.models import DeviceEvent, Quarantine, demo_token
from carenet.monitoring import partitioned
from carenet.monitoring.models import Alarm, IngestMember, IngestPartition
from carenet.monitoring.partitioned import Item, LeaseLost, ingest_batch, lease_round

S = "TEST_STREAM"


def item(seq, device, event_id, kind="motion", value=None, home=None, partition=0, ts=None):
    body = {"token": demo_token(device.device_id), "events": [
        {"id": event_id, "ts": ts or time.time() - 600, "kind": kind, "value": value or {}}]}
    home = device.elder_id if home is None else home
    return Item(seq, f"carenet.part.{partition}.{home}.{device.device_id}", json.dumps(body).encode())


def take(name, partitions=4, held=None, **kw):
    return lease_round(S, name, partitions, held or {}, **kw)


@pytest.fixture
def part(db):
    partitioned.ensure_partitions(S, 4)
    changes = take("w1")
    return {p: epoch for p, (epoch, _) in changes.acquired.items()}


def test_a_batch_commits_its_offset_and_a_redelivery_is_skipped_by_sequence(home, part):
    pir = home.device("pir", "living")
    batch = [item(10, pir, "a"), item(11, pir, "b")]
    out = ingest_batch(S, 0, "w1", part[0], batch)
    assert (out.result.accepted, out.skipped, out.last_seq) == (2, 0, 11)
    assert IngestPartition.objects.get(stream=S, partition=0).last_seq == 11
    again = ingest_batch(S, 0, "w1", part[0], batch + [item(12, pir, "c")])  # redelivered after a crash, plus one
    assert (again.result.accepted, again.skipped, again.result.duplicates) == (1, 2, 0)
    assert DeviceEvent.objects.count() == 3
    assert not Quarantine.objects.exists()  # skipped by sequence: not even counted as a duplicate


def test_a_worker_whose_lease_was_taken_commits_nothing(home, part):
    pir = home.device("pir", "living")
    IngestPartition.objects.filter(stream=S, partition=0).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    IngestMember.objects.filter(name="w1").update(seen=timezone.now() - dt.timedelta(seconds=60))
    taken = take("w2")
    assert 0 in taken.acquired
    with pytest.raises(LeaseLost):
        ingest_batch(S, 0, "w1", part[0], [item(1, pir, "zombie")])
    assert not DeviceEvent.objects.exists()
    assert IngestPartition.objects.get(stream=S, partition=0).last_seq == 0
    assert take("w1", held=part).lost >= {0}


def test_urgent_messages_first_then_the_batch_moves_the_offset_past_them(home, part):
    pir, sos = home.device("pir", "living"), home.device("sos_button")
    urgent = [item(21, sos, "s1", "sos", ts=time.time())]
    ingest_batch(S, 0, "w1", part[0], urgent, advance=False)
    assert Alarm.objects.filter(type="sos").count() == 1
    assert IngestPartition.objects.get(stream=S, partition=0).last_seq == 0
    ingest_batch(S, 0, "w1", part[0], [item(20, pir, "m1"), item(22, pir, "m2")], upto=22)
    assert IngestPartition.objects.get(stream=S, partition=0).last_seq == 22
    assert DeviceEvent.objects.count() == 3


def test_a_device_naming_another_home_or_the_district_topic_is_quarantined(home, part):
    pir = home.device("pir", "living")
    out = ingest_batch(S, 0, "w1", part[0], [item(1, pir, "x", home=pir.elder_id + 1000), item(2, pir, "y", home="_"),
                                                 item(3, pir, "ok")])
    assert out.result.accepted == 1
    details = sorted(Quarantine.objects.values_list("reason", "detail"))
    assert [r for r, _ in details] == ["malformed", "malformed"]
    assert any("another home" in d for _, d in details) and any("carenet/v1/home/" in d for _, d in details)
    assert IngestPartition.objects.get(stream=S, partition=0).last_seq == 3


def test_shares_follow_the_live_workers_and_a_silent_worker_is_taken_over(db):
    partitioned.ensure_partitions(S, 6)
    a = take("a", 6)
    assert len(a.acquired) == 6                          # alone: everything
    held_a = {p: e for p, (e, _) in a.acquired.items()}
    b = take("b", 6)
    assert b.acquired == {}                              # nothing free yet
    a2 = take("a", 6, held_a)
    assert len(a2.released) == 3                         # two live workers: a keeps its share of 3
    for p in a2.released:
        held_a.pop(p)
    b2 = take("b", 6)
    assert set(b2.acquired) == a2.released
    held_b = {p: e for p, (e, _) in b2.acquired.items()}
    # b dies: its heartbeat and leases age past the ttl; a takes its partitions with a new epoch
    IngestMember.objects.filter(name="b").update(seen=timezone.now() - dt.timedelta(seconds=60))
    IngestPartition.objects.filter(owner="b").update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    a3 = take("a", 6, held_a)
    assert set(a3.acquired) == set(held_b)
    assert all(epoch == held_b[p] + 1 for p, (epoch, _) in a3.acquired.items())
    assert set(IngestPartition.objects.filter(stream=S).values_list("owner", flat=True)) == {"a"}


def test_eligible_partitions_limit_what_a_worker_takes(db):
    partitioned.ensure_partitions(S, 4)
    assert set(take("a", 4, eligible={0, 1}).acquired) == {0, 1}


def test_a_graceful_stop_hands_everything_back(db):
    partitioned.ensure_partitions(S, 4)
    held = {p: e for p, (e, _) in take("a").acquired.items()}
    partitioned.release_all(S, "a", 4, held)
    assert set(IngestPartition.objects.filter(stream=S).values_list("owner", flat=True)) == {""}
    assert len(take("b").acquired) == 4


def test_a_name_in_use_by_a_live_worker_is_refused(db):
    partitioned.ensure_partitions(S, 4)
    take("a")
    assert partitioned.name_in_use(S, "a") and not partitioned.name_in_use(S, "b")
    IngestMember.objects.filter(name="a").update(seen=timezone.now() - dt.timedelta(seconds=60))
    assert not partitioned.name_in_use(S, "a")

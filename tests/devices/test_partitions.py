"""devices_deviceevent partitioned by month on PostgreSQL (issue 15): the ORM still works, idempotency holds
across months, months are created (rows moved out of the default partition) and archived to CSV.gz."""
import csv
import datetime as dt
import gzip
import time

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from carenet.devices import partitions as P
from carenet.devices.models import DeviceEvent
from carenet.monitoring.ingest import ingest
from tests.monitoring.conftest import home, message  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _drop_test_months():
    """Partitions are DDL: the test database's flush does not remove the 2019 months these tests create."""
    yield
    with connection.cursor() as cur:
        for name in P.attached(cur):
            if name.startswith("devices_deviceevent_y2019"):
                cur.execute(f'ALTER TABLE devices_deviceevent DETACH PARTITION "{name}"')
        cur.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'devices_deviceevent_y2019%%'")
        for (name,) in cur.fetchall():
            cur.execute(f'DROP TABLE "{name}"')


def _local(y, m, d=15):
    return dt.datetime(y, m, d, 12, tzinfo=P.local_tz())


def _where(event_id):
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM devices_deviceevent WHERE event_id = %s", [event_id])
        return [r[0] for r in cur.fetchall()]


def test_the_table_is_partitioned_and_the_orm_still_works(home):
    with connection.cursor() as cur:
        assert P.is_partitioned(cur)
        today = dt.datetime.now(P.local_tz())
        assert (today.year, today.month) in P.months(cur)
        assert P.DEFAULT in P.attached(cur)
    pir = home.device("pir", "living")
    now = dt.datetime.now(dt.timezone.utc)
    ev = DeviceEvent.objects.create(device=pir, event_id="orm-1", kind="motion", ts=now, received=now, value={"a": 1})
    assert ev.pk and DeviceEvent.objects.get(pk=ev.pk).value == {"a": 1}
    DeviceEvent.objects.filter(pk=ev.pk).update(kind="door")
    assert DeviceEvent.objects.get(pk=ev.pk).kind == "door"
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses an exact repeat
        DeviceEvent.objects.create(device=pir, event_id="orm-1", kind="motion", ts=now, received=now)
    DeviceEvent.objects.filter(pk=ev.pk).delete()
    assert not DeviceEvent.objects.exists()
    assert _where("nothing") == []


@pytest.mark.parametrize("path", ["fast", "old"])
def test_an_event_id_repeated_in_another_month_is_still_a_duplicate(home, settings, path):
    settings.CARENET_INGEST_PATH = path
    pir = home.device("pir", "living")
    now = time.time()
    first = ingest([message(pir, "motion", {"motion": True}, event_id="same", ts=now - 40 * 86400)], accept_old=True)
    again = ingest([message(pir, "motion", {"motion": True}, event_id="same", ts=now)], accept_old=True)
    assert first.accepted == 1 and again.accepted == 0 and again.duplicates == 1
    assert DeviceEvent.objects.filter(event_id="same").count() == 1


def test_a_new_month_takes_its_rows_out_of_the_default_partition(home):
    pir = home.device("pir", "living")
    ts = _local(2019, 3)
    DeviceEvent.objects.create(device=pir, event_id="old-1", kind="motion", ts=ts, received=ts)
    assert _where("old-1") == [P.DEFAULT]
    created = P.ensure_partitions(since=dt.date(2019, 3, 1), ahead=0, today=dt.date(2019, 4, 1))
    assert created == ["devices_deviceevent_y2019m03", "devices_deviceevent_y2019m04"]
    assert _where("old-1") == ["devices_deviceevent_y2019m03"]
    assert P.ensure_partitions(since=dt.date(2019, 3, 1), ahead=0, today=dt.date(2019, 4, 1)) == []


def test_old_months_are_detached_archived_and_dropped(home, tmp_path):
    pir = home.device("pir", "living")
    P.ensure_partitions(since=dt.date(2019, 1, 1), ahead=0, today=dt.date(2019, 2, 1))
    for i, month in enumerate((1, 1, 2)):
        ts = _local(2019, month, 10 + i)
        DeviceEvent.objects.create(device=pir, event_id=f"arch-{i}", kind="motion", ts=ts, received=ts,
                                   value={"note": "line\nbreak, \"quoted\"", "i": i})
    recent = dt.datetime.now(dt.timezone.utc)
    DeviceEvent.objects.create(device=pir, event_id="recent", kind="motion", ts=recent, received=recent)
    call_command("event_partitions", archive_before="2019-02", dir=str(tmp_path), dry_run=True)
    assert not list(tmp_path.iterdir()) and DeviceEvent.objects.count() == 4
    call_command("event_partitions", archive_before="2019-03", dir=str(tmp_path))
    with connection.cursor() as cur:
        assert (2019, 1) not in P.months(cur) and (2019, 2) not in P.months(cur)
        cur.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'devices_deviceevent_y2019%%'")
        assert [r[0] for r in cur.fetchall()] == []
    assert list(DeviceEvent.objects.values_list("event_id", flat=True)) == ["recent"]
    with gzip.open(tmp_path / "devices_deviceevent_y2019m01.csv.gz", "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["event_id"] for r in rows] == ["arch-0", "arch-1"]
    assert '"line\\nbreak' in rows[0]["value"] and rows[0]["device_id"] == str(pir.pk)
    with gzip.open(tmp_path / "devices_deviceevent_y2019m02.csv.gz", "rt", newline="") as fh:
        assert [r["event_id"] for r in csv.DictReader(fh)] == ["arch-2"]


def test_a_month_detached_by_an_interrupted_run_is_finished(home, tmp_path):
    pir = home.device("pir", "living")
    P.ensure_partitions(since=dt.date(2019, 5, 1), ahead=0, today=dt.date(2019, 5, 1))
    DeviceEvent.objects.create(device=pir, event_id="half", kind="motion", ts=_local(2019, 5), received=_local(2019, 5))
    with connection.cursor() as cur:
        cur.execute('ALTER TABLE devices_deviceevent DETACH PARTITION "devices_deviceevent_y2019m05"')
    done = P.archive_before(2019, 6, directory=tmp_path)
    assert [(n, rows) for n, rows, _ in done] == [("devices_deviceevent_y2019m05", 1)]


def test_the_command_refuses_a_bad_month():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("event_partitions", archive_before="2019-13")


def test_two_transactions_storing_one_event_id_with_different_ts_store_it_once(home, monkeypatch):
    """The database's key includes ts; the per-device lock around the duplicate check does the rest. The check
    is slowed down so that, without the lock, both transactions would find the id new and both store it."""
    import threading

    from carenet.monitoring import fastpath

    real = fastpath.drop_duplicates

    def slow(items, part):
        fresh = real(items, part)
        time.sleep(0.5)
        return fresh

    monkeypatch.setattr(fastpath, "drop_duplicates", slow)
    pir = home.device("pir", "living")
    now, results, barrier = time.time(), [], threading.Barrier(2)

    def run(ts):
        try:
            barrier.wait()
            results.append(ingest([message(pir, "motion", {"motion": True}, event_id="race", ts=ts)]))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(now - k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.accepted for r in results) == [0, 1] and sum(r.duplicates for r in results) == 1
    assert DeviceEvent.objects.filter(event_id="race").count() == 1


def test_the_jetstream_worker_creates_the_coming_months_at_start_and_then_hourly(monkeypatch):
    """natsworker's tick loop, like the MQTT worker, keeps the coming months in place (checked at start, then
    every PARTITIONS_EVERY_S; shortened here)."""
    import asyncio

    from carenet.monitoring import natsworker
    from carenet.monitoring.natsworker import NatsIngestWorker

    today = dt.datetime.now(P.local_tz()).date()
    name = P.partition_name(*P.add_months(today.year, today.month, P.MONTHS_AHEAD))  # an empty future month

    def drop():
        with connection.cursor() as cur:
            assert name in P.attached(cur)
            cur.execute(f'ALTER TABLE devices_deviceevent DETACH PARTITION "{name}"')
            cur.execute(f'DROP TABLE "{name}"')

    def present():
        with connection.cursor() as cur:
            return name in P.attached(cur)

    monkeypatch.setattr(natsworker, "PARTITIONS_EVERY_S", 0.5)
    drop()
    worker = NatsIngestWorker("nats://127.0.0.1:1", tick_every=0.1)   # the tick loop needs no broker

    async def run():
        worker.stop = asyncio.Event()
        task = asyncio.create_task(worker.tick_loop())
        seen = []
        for _ in range(2):              # at start, and again after the interval
            for _ in range(100):
                await asyncio.sleep(0.1)
                if await asyncio.to_thread(present):
                    break
            seen.append(await asyncio.to_thread(present))
            if len(seen) == 1 and seen[0]:
                await asyncio.to_thread(drop)
        worker.stop.set()
        await task
        return seen

    try:
        assert asyncio.run(run()) == [True, True]
    finally:
        for pool in worker.pools.values():
            pool.shutdown(wait=True)

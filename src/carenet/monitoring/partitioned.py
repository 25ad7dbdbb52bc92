"""Partitioned ingest, the database side: leases on partitions and the offset committed with the data.

The JetStream stream (docs/scale-out.md) maps each device message to a partition by its home:

    MQTT topic  carenet/v1/home/<home>/dev/<device>/up    (home = the device's elder id)
    subject     carenet.part.<partition>.<home>.<device>  (nats-server mapping partition(N, home))

A worker may process a partition only while it holds the partition's lease (IngestPartition.owner and
epoch). `ingest_batch()` runs one fetched batch in ONE transaction:

    lock the partition row → check owner and epoch (a worker whose lease was taken cannot commit) →
    skip messages at or below last_seq (a redelivery after a crash) → ingest() (events, states, alarms) →
    last_seq = the batch's highest stream sequence → commit.  The worker acknowledges to JetStream only then.

Leases: `lease_round()` runs every second in each worker, in one short transaction over the partition rows
that no data transaction is using (FOR UPDATE SKIP LOCKED): heartbeat, renew own leases, release what is over
this worker's share (ceil(partitions / live workers)), take free or expired ones up to the share. A dead
worker's leases expire after `ttl` seconds and the others take them over. A data transaction holds the row
lock, so a lease can never be taken while a batch of that partition is being stored.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from carenet.devices.models import Device
from carenet.monitoring.ingest import IngestResult, RawMessage, ingest, quarantine_row, write_quarantine
from carenet.monitoring.models import IngestMember, IngestPartition
from carenet.monitoring.subjects import (HOME_TOPIC, NO_HOME, STREAM, SUBJECT_PREFIX,  # noqa: F401 (re-exported)
                                         nats_mappings, parse_subject)

log = logging.getLogger("carenet.ingest")

LEASE_TTL_S = 5.0


class LeaseLost(Exception):
    """This worker no longer holds the partition: another one took it over. Nothing was committed."""


def home_topic(device) -> str:
    """The MQTT topic a device publishes on when nats-server is the broker (the home picks the partition)."""
    return HOME_TOPIC.format(home=device.elder_id, device=device.device_id)


@dataclass
class Item:
    """One stream message: its stream sequence, subject and payload."""
    seq: int
    subject: str
    payload: bytes
    received: float | None = None


@dataclass
class BatchOutcome:
    result: IngestResult = field(default_factory=IngestResult)
    skipped: int = 0          # at or below the committed sequence: already stored (a redelivery)
    last_seq: int = 0


def db_now() -> dt.datetime:
    """The database's clock on PostgreSQL (one clock for every worker's leases); the local clock on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT statement_timestamp()")
            return cur.fetchone()[0]
    return timezone.now()


# ---- the data transaction -----------------------------------------------------------------------------
def ingest_batch(stream: str, partition: int, owner: str, epoch: int, items: list[Item], *, advance: bool = True,
                 upto: int | None = None, accept_old: bool = False, ttl: float = LEASE_TTL_S) -> BatchOutcome:
    """Store one batch of a partition, with its offset, in one transaction (see the module docstring).

    advance=False stores without moving the offset (the urgent lane takes life-safety messages out of a batch
    first; the batch's own transaction then moves the offset past them: `upto`, the highest sequence of the whole
    fetched batch). Raises LeaseLost when this worker no
    longer holds the partition, and what ingest() raises (a lost database connection): nothing is committed."""
    out = BatchOutcome()
    with transaction.atomic():
        row = _lock_partition(stream, partition, exclusive=advance)
        if row.owner != owner or row.epoch != epoch:
            raise LeaseLost(f"partition {partition} is held by {row.owner or 'nobody'} (epoch {row.epoch})")
        fresh = [i for i in items if i.seq > row.last_seq]
        out.skipped = len(items) - len(fresh)
        raws = _raw_messages(fresh)
        if raws:
            out.result = ingest(raws, accept_old=accept_old)
        out.last_seq = row.last_seq
        top = max([i.seq for i in items] + ([upto] if upto else []), default=0)
        if advance and top:
            now = db_now()
            row.last_seq = max(row.last_seq, top)
            row.committed_at = now
            row.lease_until = now + dt.timedelta(seconds=ttl)   # a committing worker is alive
            row.save(update_fields=["last_seq", "committed_at", "lease_until"])
            out.last_seq = row.last_seq
    return out


def _lock_partition(stream: str, partition: int, exclusive: bool) -> IngestPartition:
    """The partition row, locked against a takeover for the rest of the transaction.

    The batch transaction takes FOR NO KEY UPDATE (one batch of a partition at a time; it updates the row); the
    urgent lane takes FOR KEY SHARE, which does not wait for a batch in progress but, like it, keeps the lease
    heartbeat's FOR UPDATE SKIP LOCKED away: a lease is never taken while either is storing."""
    if exclusive or connection.vendor != "postgresql":
        return IngestPartition.objects.select_for_update(no_key=True).get(stream=stream, partition=partition)
    row = IngestPartition.objects.raw(
        f"SELECT * FROM {IngestPartition._meta.db_table} WHERE stream = %s AND partition = %s FOR KEY SHARE",
        [stream, partition])
    return list(row)[0]


def _raw_messages(items: list[Item]) -> list[RawMessage]:
    """Stream messages as ingest() takes them (the legacy topic form), after checking the home in the subject:
    a device that names another home would put that home's events in the wrong partition, out of order."""
    parsed = [(i, parse_subject(i.subject)) for i in items]
    refs = {p[2] for _, p in parsed if p is not None and p[1] != NO_HOME}
    homes = dict(Device.objects.filter(device_id__in=refs).values_list("device_id", "elder_id")) if refs else {}
    raws, bad = [], []
    for item, p in parsed:
        kw = {"received": item.received} if item.received else {}
        if p is None:
            msg = RawMessage(item.payload, "mqtt", item.subject, tag=item.seq, **kw)
            bad.append(quarantine_row(msg, "malformed", "subject is not carenet.part.<p>.<home>.<device>"))
            continue
        _, home, device = p
        msg = RawMessage(item.payload, "mqtt", f"carenet/v1/dev/{device}/up", tag=item.seq, **kw)
        if home == NO_HOME:
            bad.append(quarantine_row(msg, "malformed", "on the partitioned broker a device publishes on "
                                      "carenet/v1/home/<home>/dev/<device>/up", device))
        elif device in homes and str(homes[device]) != home:
            bad.append(quarantine_row(msg, "malformed", f"topic names home {home[:20]}, the device belongs to "
                                      "another home", device))
        else:
            raws.append(msg)   # an unknown device is ingest()'s to quarantine, with its usual reason
    if bad:
        write_quarantine(bad)
    return raws


# ---- leases -------------------------------------------------------------------------------------------
@dataclass
class LeaseChanges:
    acquired: dict[int, tuple[int, int]] = field(default_factory=dict)  # partition → (epoch, last_seq)
    released: set[int] = field(default_factory=set)
    lost: set[int] = field(default_factory=set)
    live_workers: int = 1
    share: int = 0


def ensure_partitions(stream: str, partitions: int) -> None:
    IngestPartition.objects.bulk_create([IngestPartition(stream=stream, partition=p) for p in range(partitions)],
                                        ignore_conflicts=True)


def lease_round(stream: str, name: str, partitions: int, held: dict[int, int], *, ttl: float = LEASE_TTL_S,
                eligible: set[int] | None = None, leaving: bool = False) -> LeaseChanges:
    """One heartbeat of a worker: renew, release above the share, take free or expired partitions up to it.

    `held` maps the partitions this worker believes it holds to their epochs. Partitions whose row another
    worker's data transaction has locked are not seen (SKIP LOCKED); they are neither taken nor renewed here.
    leaving=True releases everything (a graceful stop) and removes the worker from the live count."""
    out = LeaseChanges()
    eligible = set(range(partitions)) if eligible is None else eligible
    with transaction.atomic():
        now = db_now()
        until = now + dt.timedelta(seconds=ttl)
        if leaving:
            IngestMember.objects.filter(stream=stream, name=name).delete()
        else:
            IngestMember.objects.update_or_create(stream=stream, name=name, defaults={"seen": now},
                                                  create_defaults={"seen": now, "started": now})
        out.live_workers = max(1, IngestMember.objects.filter(
            stream=stream, seen__gt=now - dt.timedelta(seconds=ttl)).count())
        out.share = 0 if leaving else math.ceil(partitions / out.live_workers)
        rows = list(IngestPartition.objects.select_for_update(skip_locked=True)
                    .filter(stream=stream, partition__lt=partitions).order_by("partition"))
        seen = {r.partition for r in rows}
        mine = []
        for r in rows:
            if r.partition in held:
                if r.owner == name and r.epoch == held[r.partition]:
                    mine.append(r)
                else:
                    out.lost.add(r.partition)
        # a locked row of ours is in a data transaction, which renews it on commit: still ours
        count = len(mine) + len([p for p in held if p not in seen])
        changed = []
        for r in sorted(mine, key=lambda r: -r.partition):
            if count > out.share:
                r.owner, r.lease_until = "", now
                out.released.add(r.partition)
                count -= 1
            else:
                r.lease_until = until
            changed.append(r)
        for r in rows:
            if count >= out.share:
                break
            free = not r.owner or r.lease_until is None or r.lease_until <= now
            if r.partition in held or r.partition not in eligible or not (free or r.owner == name):
                continue
            r.owner, r.epoch, r.lease_until, r.acquired_at = name, r.epoch + 1, until, now
            out.acquired[r.partition] = (r.epoch, r.last_seq)
            changed.append(r)
            count += 1
        if changed:
            IngestPartition.objects.bulk_update(changed, ["owner", "epoch", "lease_until", "acquired_at"])
    if out.acquired or out.released or out.lost:
        log.info("leases of %s: took %s, released %s, lost %s (share %d of %d with %d live workers)", name,
                 sorted(out.acquired), sorted(out.released), sorted(out.lost), out.share, partitions,
                 out.live_workers)
    return out


def name_in_use(stream: str, name: str, ttl: float = LEASE_TTL_S) -> bool:
    """Another live worker has this name (its heartbeat is younger than the ttl): two processes under one name
    would take each other's leases in turn, so a worker waits until the name is free."""
    return IngestMember.objects.filter(stream=stream, name=name, seen__gt=db_now() - dt.timedelta(seconds=ttl)).exists()


def release_all(stream: str, name: str, partitions: int, held: dict[int, int]) -> None:
    """A graceful stop: hand every partition back at once (the others take them within a second)."""
    lease_round(stream, name, partitions, held, leaving=True)
    IngestPartition.objects.filter(stream=stream, owner=name).update(owner="", lease_until=timezone.now())


def lease_table(stream: str = STREAM) -> list[dict]:
    """Who holds what, and how far each partition is stored (for `ingest_worker --status` and tests)."""
    return list(IngestPartition.objects.filter(stream=stream).order_by("partition").values(
        "partition", "owner", "epoch", "last_seq", "lease_until", "acquired_at", "committed_at"))

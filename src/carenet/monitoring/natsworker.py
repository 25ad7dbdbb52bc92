"""The partitioned ingest worker on NATS JetStream (docs/scale-out.md; `manage.py ingest_worker`).

Each worker holds a share of the stream's partitions through leases in PostgreSQL (partitioned.py). For each
partition it holds, it creates a durable pull consumer for that lease (named with the lease's epoch; the
consumers of earlier epochs are deleted) starting right after the sequence committed in the database, then
loops: fetch a batch → store it with the offset in one transaction (partitioned.ingest_batch) → acknowledge. Because the consumer restarts from the database's offset whenever a
partition changes hands, the messages a dead worker had fetched but not committed come again, in order, and
anything it had committed but not acknowledged is skipped by sequence.

Threads: the event loop speaks NATS; the database work runs in thread pools (Django connections are per
thread): `bulk` (partition batches), `urgent` (life-safety messages taken out of a batch first, in a small
transaction of their own), `lease` (the 1 s lease heartbeat, never queued behind a batch) and `tick` (timer
rules and escalations, claimed with SKIP LOCKED so every worker may run them; hourly, the event table's
coming monthly partitions, as the MQTT worker does).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import socket
import os
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

from carenet.monitoring import partitioned, timers
from carenet.monitoring.partitioned import Item, LeaseLost
from carenet.monitoring.worker import PARTITIONS_EVERY_S, database_unavailable, ensure_event_months, is_urgent

log = logging.getLogger("carenet.ingest")

DEFAULT_PARTITIONS = 16
LEASE_EVERY_S = 1.0
PREFETCH = 3         # batches fetched ahead of the store, per partition
LOOKAHEAD_BATCH = 500  # messages per fetch of the urgent look-ahead consumer


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def stream_config(stream: str, max_age_s: float):
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    # Limits retention: acknowledged messages stay for max_age, so a partition can be replayed from the
    # database's offset (a restored database, a new consumer) without the devices sending again.
    return StreamConfig(name=stream, subjects=[f"{partitioned.SUBJECT_PREFIX}.>"], retention=RetentionPolicy.LIMITS,
                        storage=StorageType.FILE, max_age=max_age_s, discard=DiscardPolicy.OLD,
                        duplicate_window=120.0)


async def ensure_stream(js, stream: str = partitioned.STREAM, max_age_s: float = 24 * 3600):
    from nats.js.errors import NotFoundError

    try:
        return await js.stream_info(stream)
    except NotFoundError:
        return await js.add_stream(stream_config(stream, max_age_s))


class NatsIngestWorker:
    def __init__(self, nats_url: str, name: str | None = None, partitions: int = DEFAULT_PARTITIONS,
                 stream: str = partitioned.STREAM, batch: int = 100, ttl: float = partitioned.LEASE_TTL_S,
                 tick_every: float = 1.0, eligible: set[int] | None = None, accept_old: bool = False,
                 bulk_threads: int = 2, fetch_wait: float = 0.5, max_age_s: float = 24 * 3600,
                 lookahead: bool = False):
        self.url = nats_url
        self.name = name or default_name()
        self.partitions = partitions
        self.stream = stream
        self.batch = batch
        self.ttl = ttl
        self.tick_every = tick_every
        self.eligible = eligible
        self.accept_old = accept_old
        self.fetch_wait = fetch_wait
        self.max_age_s = max_age_s
        self.lookahead = lookahead
        self.fetched: dict[int, int] = {}            # partition → highest stream sequence the bulk fetcher has seen
        self.early: dict[int, set[int]] = {}         # partition → sequences the lookahead stored ahead of the bulk
        self.inflight: dict[int, dict[int, asyncio.Future]] = {}  # partition → sequence → the look-ahead's store
        self.held: dict[int, int] = {}               # partition → epoch of our lease
        self.tasks: dict[int, asyncio.Task] = {}
        self.stats = {"messages": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "skipped": 0, "alarms": 0,
                      "urgent": 0, "urgent_ahead": 0, "db_retries": 0, "taken": 0, "lost": 0, "batches": 0,
                      "db_seconds": 0.0}
        self.pools = {"bulk": ThreadPoolExecutor(bulk_threads, "bulk"), "urgent": ThreadPoolExecutor(1, "urgent"),
                      "lease": ThreadPoolExecutor(1, "lease"), "tick": ThreadPoolExecutor(1, "tick")}
        self.stop: asyncio.Event | None = None
        self.nc = self.js = None

    # -- plumbing ---------------------------------------------------------------------------------------
    async def db(self, pool: str, fn, *args, **kw):
        """Run a database function in one of the pools; a lost connection is closed so the next call reconnects."""
        def call():
            try:
                return fn(*args, **kw)
            except Exception as exc:
                if database_unavailable(exc):
                    connection.close()
                raise
            finally:
                close_old_connections()
        return await asyncio.get_running_loop().run_in_executor(self.pools[pool], call)

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)

    # -- main -------------------------------------------------------------------------------------------
    def run(self, max_seconds: float | None = None) -> dict:
        return asyncio.run(self.main(max_seconds))

    async def main(self, max_seconds: float | None = None, signals: bool = True) -> dict:
        import nats

        self.stop = asyncio.Event()
        if signals:
            self.install_signal_handlers()

        async def disconnected():
            log.warning("NATS disconnected; reconnecting")

        async def reconnected():
            log.info("NATS reconnected")

        async def error(exc):
            log.warning("NATS: %s", exc.__class__.__name__)

        self.nc = await nats.connect(self.url, name=self.name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                                     disconnected_cb=disconnected, reconnected_cb=reconnected, error_cb=error)
        self.js = self.nc.jetstream()
        while not self.stop.is_set():
            try:
                await ensure_stream(self.js, self.stream, self.max_age_s)
                break
            except Exception as exc:
                log.warning("stream %s not ready (%s); retrying", self.stream, exc)
                await asyncio.sleep(1)
        await self.db("lease", partitioned.ensure_partitions, self.stream, self.partitions)
        while not self.stop.is_set() and await self.db("lease", partitioned.name_in_use, self.stream, self.name,
                                                         self.ttl):
            log.warning("a worker named %s is alive (or died less than %.0f s ago); waiting", self.name, self.ttl)
            await asyncio.sleep(1)
        log.info("worker %s connected to %s: stream %s, %d partitions", self.name, self.url, self.stream,
                 self.partitions)
        background = [asyncio.create_task(self.lease_loop()), asyncio.create_task(self.tick_loop())]
        try:
            if max_seconds is None:
                await self.stop.wait()
            else:
                try:
                    await asyncio.wait_for(self.stop.wait(), max_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            self.stop.set()
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            try:
                await self.db("lease", partitioned.release_all, self.stream, self.name, self.partitions, self.held)
            except Exception as exc:  # the leases then expire by themselves
                log.warning("could not release the leases (%s); they expire in %.0f s", exc, self.ttl)
            await self.nc.close()
            for pool in self.pools.values():
                pool.shutdown(wait=True)
        log.info("worker %s stopped: %s", self.name, self.stats)
        return self.stats

    # -- leases -----------------------------------------------------------------------------------------
    async def lease_loop(self) -> None:
        while not self.stop.is_set():
            try:
                changes = await self.db("lease", partitioned.lease_round, self.stream, self.name, self.partitions,
                                        dict(self.held), ttl=self.ttl, eligible=self.eligible)
            except Exception as exc:
                log.warning("lease heartbeat failed (%s); our leases expire in %.0f s without it", exc, self.ttl)
            else:
                for p in changes.released | changes.lost:
                    self.held.pop(p, None)
                    self.stats["lost"] += p in changes.lost
                for p, (epoch, last_seq) in changes.acquired.items():
                    old = self.tasks.pop(p, None)
                    if old is not None:
                        old.cancel()
                    self.held[p] = epoch
                    self.stats["taken"] += 1
                    self.tasks[p] = asyncio.create_task(self.consume(p, epoch, last_seq))
            try:
                await asyncio.wait_for(self.stop.wait(), LEASE_EVERY_S)
            except asyncio.TimeoutError:
                pass

    async def tick_loop(self) -> None:
        months_checked = None
        while not self.stop.is_set():
            if months_checked is None or time.monotonic() - months_checked > PARTITIONS_EVERY_S:
                months_checked = time.monotonic()   # hourly, as the MQTT worker: the event table's coming months
                await self.db("tick", ensure_event_months)
            try:
                self.stats["alarms"] += await self.db("tick", timers.run_tick)
            except Exception as exc:
                log.warning("timer tick failed (%s); the next tick tries again", exc.__class__.__name__)
            try:
                await asyncio.wait_for(self.stop.wait(), self.tick_every)
            except asyncio.TimeoutError:
                pass

    # -- one partition ----------------------------------------------------------------------------------
    def durable(self, p: int, epoch: int) -> str:
        """The consumer of one lease of partition p: its name carries the lease's epoch (see reset_consumer)."""
        return f"{self.stream}_p{p}_e{epoch}"

    async def reset_consumer(self, p: int, epoch: int, last_seq: int) -> str:
        """This lease's pull consumer of partition p, (re)created to start right after the committed sequence.

        The name carries the epoch, and the consumers of earlier epochs are deleted: a former owner that has not
        yet noticed it lost the lease (a stalled heartbeat) pulls from a consumer that no longer exists. Under one
        shared name it pulled from ours, and the messages it took were neither stored (its commit is refused) nor
        acknowledged, while our offset passed over them: lost (tests/monitoring/test_nats_takeover.py)."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        name = self.durable(p, epoch)
        for old in await self.partition_consumers(p):
            if old[1] <= epoch:   # a later epoch is a newer owner's: never ours to delete
                try:
                    await self.js.delete_consumer(self.stream, old[0])
                except NotFoundError:
                    pass
        await self.js.add_consumer(self.stream, ConsumerConfig(
            durable_name=name, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=last_seq + 1,
            filter_subject=f"{partitioned.SUBJECT_PREFIX}.{p}.>", ack_policy=AckPolicy.ALL, ack_wait=60.0,
            max_ack_pending=-1, max_deliver=-1))
        return name

    async def partition_consumers(self, p: int) -> list[tuple[str, int]]:
        """(name, epoch) of partition p's consumers on the stream; the name of before epochs counts as epoch 0."""
        prefix, out, offset = f"{self.stream}_p{p}", [], 0
        while True:
            page = await self.js.consumers_info(self.stream, offset=offset or None)
            for info in page:
                name = info.name or ""
                if name == prefix:
                    out.append((name, 0))
                elif name.startswith(prefix + "_e") and name[len(prefix) + 2:].isdigit():
                    out.append((name, int(name[len(prefix) + 2:])))
            if len(page) < 256:   # the server's page size for consumer lists
                return out
            offset += len(page)

    def holds(self, p: int, epoch: int) -> bool:
        return not self.stop.is_set() and self.held.get(p) == epoch

    async def consume(self, p: int, epoch: int, last_seq: int) -> None:
        """Fetch partition p while this lease lasts; a separate task stores the batches in order.

        Every delivery of this lease's consumer comes to this task, so the consumer sequences it sees run 1, 2,
        3, ... without a hole. A hole means deliveries went elsewhere (or were dropped in the client): the batches
        before it are stored, then the task ends and hands the partition back to the lease loop, which takes it
        again at once with a new epoch and a new consumer from the committed offset. Nothing is passed over."""
        import nats.errors

        sub = storer = ahead = None
        try:
            while self.holds(p, epoch) and sub is None:
                try:
                    name = await self.reset_consumer(p, epoch, last_seq)
                    sub = await self.js.pull_subscribe_bind(durable=name, stream=self.stream)
                except Exception as exc:
                    log.warning("partition %d: consumer not ready (%s); retrying", p, exc)
                    await asyncio.sleep(0.5)
            if sub is None:
                return
            log.info("partition %d: epoch %d, committed offset %d; consumer %s starts at stream seq %d", p, epoch,
                     last_seq, name, last_seq + 1)
            # The fetcher runs ahead of the store by a few batches, so a life-safety message is seen (and stored
            # on the urgent lane) while the batches before it still wait for a database thread.
            queue: asyncio.Queue = asyncio.Queue(maxsize=PREFETCH)
            storer = asyncio.create_task(self.store_loop(p, epoch, queue))
            self.fetched[p], self.early[p], self.inflight[p] = last_seq, set(), {}
            if self.lookahead:
                ahead = asyncio.create_task(self.look_ahead(p, epoch, last_seq))
            expect, above, hole = 1, last_seq, False   # next consumer sequence; highest stream sequence seen
            while self.holds(p, epoch) and not storer.done() and not hole:
                try:
                    msgs = await sub.fetch(self.batch, timeout=self.fetch_wait)
                except (asyncio.TimeoutError, nats.errors.TimeoutError):
                    continue
                except Exception as exc:  # broker restarting, connection lost: the durable consumer waits for us
                    log.warning("partition %d: fetch failed (%s); retrying", p, exc.__class__.__name__)
                    await asyncio.sleep(0.5)
                    continue
                if not msgs:  # a status reply (e.g. after the broker restarted), not messages
                    continue
                if expect == 1:
                    log.info("partition %d: epoch %d first fetch: stream seq %d (consumer seq %d), committed offset "
                             "%d", p, epoch, msgs[0].metadata.sequence.stream, msgs[0].metadata.sequence.consumer,
                             last_seq)
                msgs, hole = self.in_sequence(p, epoch, msgs, expect, above)
                if not msgs:
                    break
                expect = msgs[-1].metadata.sequence.consumer + 1
                above = max(above, msgs[-1].metadata.sequence.stream)
                items = [Item(m.metadata.sequence.stream, m.subject, m.data) for m in msgs]
                self.fetched[p] = items[-1].seq   # from here on the look-ahead leaves these alone ...
                flight = self.inflight.get(p, {})
                waits = {id(f): f for f in (flight.get(i.seq) for i in items) if f is not None}
                if waits:   # ... and those it is storing now are waited for: each message is stored by one lane
                    await asyncio.gather(*waits.values(), return_exceptions=True)
                early = self.early[p]
                fresh = [i for i in items if i.seq not in early] if early else items
                early.difference_update(i.seq for i in items)
                rest = await self.take_urgent(p, epoch, fresh)
                if rest is None:
                    break
                while self.holds(p, epoch) and not storer.done():
                    try:
                        await asyncio.wait_for(queue.put((msgs, items, rest)), 0.5)
                        break
                    except asyncio.TimeoutError:
                        continue
            if not storer.done():
                await queue.put(None)  # the store finishes what was fetched, then ends
            await storer
        except asyncio.CancelledError:
            pass
        finally:
            for task in (storer, ahead):
                if task is not None and not task.done():
                    task.cancel()
            if self.held.get(p) == epoch and not self.stop.is_set():
                self.held.pop(p, None)   # the next lease round takes it again (new epoch, committed offset)
            if sub is not None:
                try:
                    await sub.unsubscribe()
                except Exception:
                    pass

    @staticmethod
    def in_sequence(p: int, epoch: int, msgs: list, expect: int, above: int) -> tuple[list, bool]:
        """The messages of a fetch up to the first break in the consumer sequence (or a stream sequence that does
        not rise), and whether there was a break."""
        for k, m in enumerate(msgs):
            cseq, sseq = m.metadata.sequence.consumer, m.metadata.sequence.stream
            if cseq != expect + k or sseq <= above:
                log.error("partition %d: epoch %d expected consumer seq %d after stream seq %d, got consumer seq %d "
                          "(stream seq %d): deliveries went elsewhere; storing what came before, then restarting "
                          "from the committed offset", p, epoch, expect + k, above, cseq, sseq)
                return msgs[:k], True
            above = sseq
        return msgs, False

    async def look_ahead(self, p: int, epoch: int, last_seq: int) -> None:
        """The urgent lane past the backlog: a second, ephemeral consumer of the partition (no acks, deleted by the
        broker when idle) reads ahead of the bulk fetcher, only looking for fresh life-safety messages, and stores
        them at once on the urgent lane (fenced by the lease, without moving the offset). So an SOS behind a backlog
        of thousands of ordinary messages waits for none of them. The bulk fetcher later skips what was stored here;
        only what it has not fetched yet is looked at. Parsing is skipped for anything without an urgent keyword."""
        import nats.errors
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        sub = None
        try:
            while self.holds(p, epoch) and sub is None:
                try:
                    sub = await self.js.pull_subscribe(
                        f"{partitioned.SUBJECT_PREFIX}.{p}.>", stream=self.stream, config=ConsumerConfig(
                            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=last_seq + 1,
                            ack_policy=AckPolicy.NONE, inactive_threshold=30.0, mem_storage=True))
                except Exception as exc:
                    log.warning("partition %d: look-ahead consumer not ready (%s); retrying", p, exc)
                    await asyncio.sleep(1.0)
            while self.holds(p, epoch):
                try:
                    msgs = await sub.fetch(LOOKAHEAD_BATCH, timeout=self.fetch_wait)
                except (asyncio.TimeoutError, nats.errors.TimeoutError):
                    continue
                except Exception as exc:
                    log.warning("partition %d: look-ahead fetch failed (%s)", p, exc.__class__.__name__)
                    await asyncio.sleep(1.0)
                    continue
                behind = self.fetched.get(p, 0)
                urgent = [Item(m.metadata.sequence.stream, m.subject, m.data) for m in msgs
                          if m.metadata.sequence.stream > behind and is_urgent(m.data)]
                if not urgent:
                    continue
                # claimed in the event loop before any await: the bulk fetcher, which has not fetched them yet,
                # waits for this store when it does, then leaves out what it stored
                done = asyncio.get_running_loop().create_future()
                flight = self.inflight.setdefault(p, {})
                for i in urgent:
                    flight[i.seq] = done
                stored = False
                try:
                    out = await self.db("urgent", partitioned.ingest_batch, self.stream, p, self.name, epoch, urgent,
                                        advance=False, accept_old=self.accept_old, ttl=self.ttl)
                    stored = True
                except LeaseLost:
                    return
                except Exception as exc:  # the bulk lane carries them
                    log.warning("partition %d: look-ahead urgent store failed (%s)", p, exc.__class__.__name__)
                    continue
                finally:
                    for i in urgent:
                        flight.pop(i.seq, None)
                    if stored:
                        self.early.setdefault(p, set()).update(i.seq for i in urgent)
                    done.set_result(stored)
                self.count(out)
                self.stats["urgent"] += len(urgent)
                self.stats["urgent_ahead"] += len(urgent)
        except asyncio.CancelledError:
            pass
        finally:
            if sub is not None:
                try:
                    await sub.unsubscribe()
                except Exception:
                    pass

    async def take_urgent(self, p: int, epoch: int, items: list[Item]) -> list[Item] | None:
        """Store a batch's fresh life-safety messages at once, in a small transaction of their own (the offset
        moves later, with the batch). Returns the rest of the batch; None when the lease is lost."""
        urgent = [i for i in items if is_urgent(i.payload)]
        if not urgent:
            return items
        try:
            out = await self.db("urgent", partitioned.ingest_batch, self.stream, p, self.name, epoch, urgent,
                                advance=False, accept_old=self.accept_old, ttl=self.ttl)
        except LeaseLost:
            self.lost(p)
            return None
        except Exception as exc:
            log.warning("partition %d: urgent lane failed (%s); the batch carries them", p, exc)
            return items
        self.count(out)
        self.stats["urgent"] += len(urgent)
        done = {i.seq for i in urgent}
        return [i for i in items if i.seq not in done]

    async def store_loop(self, p: int, epoch: int, queue: asyncio.Queue) -> None:
        while True:
            batch = await queue.get()
            if batch is None or not await self.store(p, epoch, *batch):
                return

    async def store(self, p: int, epoch: int, msgs, items: list[Item], rest: list[Item]) -> bool:
        """Store a fetched batch with its offset and acknowledge it. False when the lease is lost."""
        attempt = 0
        while self.holds(p, epoch) or (self.stop.is_set() and self.held.get(p) == epoch):
            try:
                started = time.monotonic()
                out = await self.db("bulk", partitioned.ingest_batch, self.stream, p, self.name, epoch, rest,
                                    upto=items[-1].seq, accept_old=self.accept_old, ttl=self.ttl)
                break
            except LeaseLost:
                log.warning("partition %d: epoch %d lost with %d fetched messages not stored (stream seq %d..%d)", p,
                            epoch, len(items), items[0].seq, items[-1].seq)
                return self.lost(p)
            except Exception as exc:
                attempt += 1
                self.stats["db_retries"] += 1
                if not database_unavailable(exc):
                    log.exception("partition %d: batch failed; retrying", p)
                else:
                    log.warning("partition %d: database unavailable (%s); keeping %d messages, retry %d", p,
                                exc.__class__.__name__, len(rest), attempt)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(attempt, 5)))
        else:
            return False
        self.count(out)
        self.stats["messages"] += len(items)
        self.stats["batches"] += 1
        self.stats["db_seconds"] = round(self.stats["db_seconds"] + time.monotonic() - started, 3)
        try:
            await msgs[-1].ack()  # AckPolicy.ALL: acknowledges the whole batch
        except Exception as exc:  # committed anyway: a redelivery is skipped by sequence
            log.warning("partition %d: ack failed (%s); a redelivery will be skipped", p, exc.__class__.__name__)
        return True

    def count(self, out) -> None:
        r = out.result
        self.stats["accepted"] += r.accepted
        self.stats["duplicates"] += r.duplicates
        self.stats["rejected"] += r.rejected_total - r.duplicates
        self.stats["alarms"] += len(r.alarm_ids)
        self.stats["skipped"] += out.skipped

    def lost(self, p: int) -> bool:
        log.warning("partition %d: lease taken over by another worker; stopping it here", p)
        self.held.pop(p, None)
        self.stats["lost"] += 1
        return False


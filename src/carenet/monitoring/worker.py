"""The ingest worker: MQTT (QoS 1, persistent session, manual acknowledgement) → ingest → rules → DB.

A message is acknowledged to the broker only after the transaction that stored it has committed. If the
worker is killed, the broker redelivers what was not acknowledged; if the database is unreachable, the
worker keeps the batch, retries with back-off and acknowledges nothing meanwhile. Redelivered events
are recognised by (device, event id) and change nothing.

Only a lost database connection holds messages back. Any other failure is isolated to the message that
causes it (see ingest.py), which is quarantined and acknowledged, so one bad message never blocks the ones
behind it, on either lane.

A watchdog thread writes a heartbeat file (for `manage.py ingest_health`) and ends the process with a
non-zero code (EXIT_WEDGED) when the MQTT network thread or the urgent lane has died, or when messages wait
and no batch has finished for `stall_timeout` seconds, so that the supervisor (systemd `Restart=always`)
starts a fresh worker; the broker redelivers whatever was not acknowledged.
"""
from __future__ import annotations

import collections
import json
import logging
import os
import queue
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from carenet.monitoring import timers
from carenet.monitoring.fastpath import finish_fast, parse_json_fast, prepare_fast
from carenet.monitoring.ingest import (MAX_BYTES, SUBSCRIPTION, IngestResult, RawMessage,
                                       ingest, quarantine_failed, safe_text)

log = logging.getLogger("carenet.ingest")

# Life-safety kinds take the urgent lane: their own thread, connection and small transactions.
# A cheap byte search; a false positive only means a message takes the fast lane.
URGENT = re.compile(rb'"kind"\s*:\s*"(sos|fall|smoke|water_leak)"')


URGENT_MAX_AGE_S = 120
URGENT_BATCH = 10  # small transactions: the first SOS of a burst is committed without waiting for the rest


def ensure_event_months() -> list[str]:
    """The coming months of the event table exist before events need them (PostgreSQL; devices/partitions.py).
    Every ingest worker calls this hourly (the MQTT one and the JetStream one); never raises: until a month
    exists, the default partition takes its events, and the next hour tries again."""
    from carenet.devices.partitions import ensure_partitions

    try:
        created = ensure_partitions()
    except Exception as exc:
        log.warning("could not create the coming event partitions (%s)", exc.__class__.__name__)
        if database_unavailable(exc):
            connection.close()
        return []
    for name in created:
        log.info("created event partition %s", name)
    return created


def is_urgent(payload: bytes, now: float | None = None) -> bool:
    """A life-safety event from the last two minutes. Older ones (a backlog after an outage, a replay) keep
    their place in the ordered bulk lane, so the rules see each home's events in time order.
    Never raises, and parses nothing it has not bounded first (size and nesting depth): it runs on the MQTT
    network thread, whose death would leave the process deaf."""
    return urgent_body(payload, now) is not None


def urgent_body(payload: bytes, now: float | None = None) -> dict | None:
    """The parsed body of an urgent message (handed to ingest, so it is parsed once), else None."""
    try:
        if len(payload) > MAX_BYTES or not URGENT.search(payload):
            return None
        body = parse_json_fast(payload)
        events = body.get("events", [body])
        stamps = [e.get("ts") for e in events if isinstance(e, dict)]
        now = now or time.time()
        fresh = bool(stamps) and all(isinstance(t, (int, float)) and not isinstance(t, bool)
                                     and now - t < URGENT_MAX_AGE_S for t in stamps)
        return body if fresh else None
    except Exception:
        return None  # malformed: the bulk lane quarantines it with the reason


INGEST_PATHS = ("fast", "old")  # ingest(path=...): the fast path of issue 15, or the old one for comparison


def database_unavailable(exc: BaseException) -> bool:
    """What ingest() lets escape when the database cannot be reached. Every other failure ingest() has already
    isolated to its message (quarantined); a DataError or a bug that still escapes is handled one message at
    a time below, never retried forever."""
    return isinstance(exc, (OperationalError, InterfaceError))


def _prepared(future):
    """prepare_fast's result, or None (not prepared, or it failed: the batch is then ingested the plain way)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception as exc:
        if database_unavailable(exc):
            raise
        return None


def parse_mqtt_url(url: str) -> tuple[str, int]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


# The MQTT network thread reads each message in several recv() calls, each releasing the GIL; with the ingest
# thread busy, taking it back waits for the interpreter's switch interval (5 ms by default: the "convoy" of an
# I/O thread behind a CPU thread). 1 ms in the worker process: in two A/B pairs of bench/ingest_throughput.py
# (load average 8-10) the saturated fast path went from 7,603 and 5,315 to 10,238 and 7,147 events/s.
GIL_SWITCH_INTERVAL_S = 0.001
EXIT_WEDGED = 3           # the process exits with this when it can no longer make progress
STALL_TIMEOUT_S = 120.0   # messages waiting and no batch finished for this long: restart
HEALTH_EVERY_S = 1.0
PARTITIONS_EVERY_S = 3600.0


def default_health_file(client_id: str) -> str:
    from django.conf import settings

    safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", client_id)
    return os.environ.get("CARENET_INGEST_HEALTH_FILE") or str(settings.VAR_DIR / f"ingest-{safe_id}.health.json")


class IngestWorker:
    # liveness state (class defaults, so a worker built without __init__ in a unit test has them too)
    busy = 0
    progress = 0.0
    db_down_since: float | None = None
    urgent_thread: threading.Thread | None = None
    loop_started = False
    health_file: str | None = None
    path: str | None = None  # the ingest implementation (None: settings.CARENET_INGEST_PATH)
    bodies: dict = {}        # message id → body parsed by the urgent check (replaced per worker in __init__)

    def __init__(self, mqtt_url: str, client_id: str = "carenet-ingest", batch_size: int = 100,
                 batch_wait: float = 0.02, tick_every: float = 1.0, session_expiry: int = 7 * 24 * 3600,
                 subscription: str = SUBSCRIPTION, accept_old: bool = False, health_file: str | None = None,
                 stall_timeout: float = STALL_TIMEOUT_S, path: str | None = None):
        self.host, self.port = parse_mqtt_url(mqtt_url)
        self.client_id = client_id
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.tick_every = tick_every
        self.session_expiry = session_expiry
        self.subscription = subscription
        self.inbox: queue.Queue = queue.Queue()
        self.pending: collections.deque = collections.deque()
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.tick_gate = threading.Event()  # timer rules run while set (cleared while history is replayed)
        self.tick_gate.set()
        self.stats = {"messages": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "db_retries": 0, "alarms": 0}
        self.accept_old = accept_old
        self.path = path
        self.bodies = {}
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.urgent_inbox: queue.Queue = queue.Queue()
        self.stats_lock = threading.Lock()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        # liveness
        self.health_file = health_file
        self.stall_timeout = stall_timeout
        self.busy = 0                          # messages taken from the queues and not yet acknowledged
        self.progress = time.monotonic()       # the last time a batch finished (or nothing was waiting)
        self.db_down_since: float | None = None
        self.urgent_thread: threading.Thread | None = None
        self.loop_started = False
        self._die = lambda code: os._exit(code)

    # -- MQTT ---------------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        client.subscribe(self.subscription, qos=1)
        self.connected.set()
        log.info("connected to %s:%s as %s (session present: %s)", self.host, self.port, self.client_id,
                 flags.session_present)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        # The broker has the subscription from here on: before this, a message published to a new session is
        # not kept for it (tests and operators wait for this line, not for "connected").
        granted = [str(rc) for rc in reason_codes]
        log.info("subscribed to %s (%s)", self.subscription, ", ".join(granted))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self.stop.is_set():
            log.warning("MQTT disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg):
        # Fresh life-safety messages go to their own thread and connection, never behind bulk traffic.
        # Nothing here may raise: an exception would end paho's network thread.
        try:
            body = urgent_body(msg.payload)
        except Exception:
            body = None
        if body is not None:
            self.bodies[id(msg)] = body
        (self.urgent_inbox if body is not None else self.inbox).put(msg)

    def _urgent_loop(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    batch = [self.urgent_inbox.get(timeout=0.2)]
                except queue.Empty:
                    continue
                while len(batch) < URGENT_BATCH:
                    try:
                        batch.append(self.urgent_inbox.get_nowait())
                    except queue.Empty:
                        break
                self._process(batch)
        finally:
            connection.close()

    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry  # keep our queue at the broker while we are down
        props.ReceiveMaximum = 65535                       # let the broker keep many QoS 1 messages in flight
        while not self.stop.is_set():
            try:
                self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=props)
                break
            except OSError as exc:
                log.warning("broker %s:%s not reachable (%s); retrying", self.host, self.port, exc)
                time.sleep(1)
        self.client.loop_start()
        self.loop_started = True

    # -- main loop ------------------------------------------------------------------------------
    def run(self, idle_exit: float | None = None, max_seconds: float | None = None) -> dict:
        watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        watchdog.start()
        self.connect()
        self.urgent_thread = threading.Thread(target=self._urgent_loop, name="urgent-lane", daemon=True)
        self.urgent_thread.start()
        started = last_tick = last_msg = time.monotonic()
        if self._overlaps():
            self.prepare_pool = ThreadPoolExecutor(1, thread_name_prefix="prepare")
        following = None
        try:
            while not self.stop.is_set():
                batch, prepared = following or (self._next_batch(), None)
                following, self.prefetched = None, 0
                now = time.monotonic()
                if batch:
                    if self.prepare_pool is not None and self._drain():  # more waiting: prepare it meanwhile
                        following = self._prefetch()
                    self._process(batch, prepared)
                    last_msg = now
                if now - last_tick >= self.tick_every:
                    self._tick()
                    last_tick = now
                if idle_exit is not None and now - last_msg > idle_exit:
                    break
                if max_seconds is not None and now - started > max_seconds:
                    break
        finally:
            self.stop.set()
            if self.prepare_pool is not None:  # a prepared batch left here was never acknowledged: redelivered
                self.prepare_pool.submit(connection.close)
                self.prepare_pool.shutdown(wait=True, cancel_futures=False)
            self.urgent_thread.join(timeout=10)
            self.client.loop_stop()
            self.client.disconnect()
        return self.stats

    def _next_batch(self) -> list:
        """The next bulk batch (urgent messages are handled by the urgent-lane thread)."""
        if not self.pending:
            try:
                self.pending.append(self.inbox.get(timeout=0.2))
            except queue.Empty:
                return []
            time.sleep(self.batch_wait)  # let a burst gather into one transaction
        while True:
            try:
                self.pending.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        batch = [self.pending.popleft() for _ in range(min(self.batch_size, len(self.pending)))]
        return batch

    # -- overlap: the next bulk batch is decoded, its devices read and validated (prepare_fast, a second thread
    # and connection) while this one's transaction runs. Batches are still stored and acknowledged in order.
    prepare_pool: ThreadPoolExecutor | None = None
    prefetched = 0  # messages of the prepared batch, counted as waiting until it is processed

    def _overlaps(self) -> bool:
        from django.conf import settings

        return (self.path or getattr(settings, "CARENET_INGEST_PATH", "fast")) == "fast"

    def _drain(self) -> int:
        while True:
            try:
                self.pending.append(self.inbox.get_nowait())
            except queue.Empty:
                return len(self.pending)

    def _prefetch(self) -> tuple:
        batch = [self.pending.popleft() for _ in range(min(self.batch_size, len(self.pending)))]
        self.prefetched = len(batch)
        raws = self._raws(batch)
        return batch, (raws, self.prepare_pool.submit(self._prepare, raws))

    def _prepare(self, raws: list) -> tuple:
        try:
            return prepare_fast(raws, accept_old=self.accept_old)
        except Exception:
            connection.close()  # this thread's connection; the main thread stores the batch the plain way
            raise

    def _raws(self, batch: list) -> list:
        return [RawMessage(m.payload, "mqtt", _topic(m), tag=(m.mid, m.qos), body=self.bodies.pop(id(m), None))
                for m in batch]

    def _process(self, batch: list, prepared: tuple | None = None) -> None:
        with self.stats_lock:
            self.busy += len(batch)
        try:
            self._process_batch(batch, prepared)
        finally:
            with self.stats_lock:
                self.busy -= len(batch)
                self.progress = time.monotonic()

    def _process_batch(self, batch: list, prepared: tuple | None = None) -> None:
        raws, future = prepared or (self._raws(batch), None)
        attempt = 0
        while True:
            try:
                try:
                    pending_future, future = future, None  # a retry prepares again
                    ready = _prepared(pending_future)
                    result = (finish_fast(ready) if ready is not None
                              else ingest(raws, accept_old=self.accept_old, path=self.path))
                except Exception as exc:
                    if database_unavailable(exc):
                        raise
                    # ingest() isolates bad messages itself; this is the net under it: never a crash loop
                    log.exception("batch of %d failed; retrying one message at a time", len(raws))
                    result = self._one_at_a_time(raws)
                break
            except Exception as exc:  # only a lost database connection gets here
                attempt += 1
                self.db_down_since = self.db_down_since or time.monotonic()
                self.stats["db_retries"] += 1
                log.warning("database unavailable (%s: %s); keeping %d messages unacknowledged, retry %d",
                            exc.__class__.__name__, safe_text(str(exc), 200), len(raws), attempt)
                connection.close()
                if self.stop.wait(min(10.0, 0.2 * 2 ** min(attempt, 6))):
                    return  # shutting down: nothing acknowledged, the broker will redeliver
                close_old_connections()
        self.db_down_since = None
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)
        with self.stats_lock:
            s = self.stats
            s["messages"] += len(batch)
            s["accepted"] += result.accepted
            s["duplicates"] += result.duplicates
            s["rejected"] += result.rejected_total
            s["alarms"] += len(result.alarm_ids)

    def _one_at_a_time(self, raws) -> IngestResult:
        """Process each message alone; one that still fails is quarantined with its error and acknowledged."""
        total = IngestResult()
        for raw in raws:
            try:
                part = ingest([raw], accept_old=self.accept_old, path=self.path)
            except Exception as exc:
                if database_unavailable(exc):
                    raise
                log.exception("message on %s quarantined: processing error", safe_text(raw.topic, 200))
                try:
                    quarantine_failed(raw, exc)
                except Exception as qexc:
                    if database_unavailable(qexc):
                        raise
                    log.exception("could not quarantine a message on %s; acknowledged and logged only",
                                  safe_text(raw.topic, 200))
                total.rejected["processing_error"] += 1
                continue
            total.accepted += part.accepted
            total.duplicates += part.duplicates
            total.alarm_ids += part.alarm_ids
            for reason, n in part.rejected.items():
                total.rejected[reason] += n
        return total

    partitions_checked = 0.0

    def _tick(self) -> None:
        if time.monotonic() - self.partitions_checked > PARTITIONS_EVERY_S:
            self._ensure_partitions()
        if not self.tick_gate.is_set():
            return
        try:
            self.stats["alarms"] += timers.run_tick()
        except Exception as exc:
            if database_unavailable(exc):
                log.warning("timer tick skipped, database unavailable (%s)", exc.__class__.__name__)
                connection.close()
            else:
                log.exception("timer tick failed; the next tick tries again")

    def _ensure_partitions(self) -> None:
        self.partitions_checked = time.monotonic()
        ensure_event_months()

    # -- liveness -------------------------------------------------------------------------------
    def waiting(self) -> int:
        return self.inbox.qsize() + self.urgent_inbox.qsize() + len(self.pending) + self.busy + self.prefetched

    def check(self) -> str | None:
        """None while the worker can make progress, else why it cannot (then it must be restarted)."""
        now = time.monotonic()
        waiting = self.waiting()
        if not waiting:
            self.progress = now
        if self.stop.is_set():
            return None
        thread = getattr(self.client, "_thread", None)
        if self.loop_started and (thread is None or not thread.is_alive()):
            return "the MQTT network thread has died"
        if self.urgent_thread is not None and not self.urgent_thread.is_alive():
            return "the urgent lane has died"
        if waiting and self.db_down_since is None and now - self.progress > self.stall_timeout:
            return f"no progress for {now - self.progress:.0f}s with {waiting} messages waiting"
        return None

    def health(self, problem: str | None = None) -> dict:
        now = time.monotonic()
        return {"pid": os.getpid(), "client_id": self.client_id, "time": time.time(),
                "ok": problem is None and self.db_down_since is None, "problem": problem,
                "mqtt_connected": self.connected.is_set(), "waiting": self.waiting(),
                "seconds_since_progress": round(now - self.progress, 1),
                "database": "unavailable" if self.db_down_since is not None else "ok",
                "stats": dict(self.stats)}

    def write_health(self, problem: str | None = None) -> None:
        if not self.health_file:
            return
        tmp = f"{self.health_file}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w") as fh:
                json.dump(self.health(problem), fh)
            os.replace(tmp, self.health_file)
        except OSError as exc:
            log.warning("cannot write the health file %s (%s)", self.health_file, exc)

    def _watch(self) -> None:
        while not self.stop.wait(HEALTH_EVERY_S):
            problem = self.check()
            self.write_health(problem)
            if problem:
                log.critical("ingest worker cannot make progress: %s; exiting with %d so the supervisor restarts it",
                             problem, EXIT_WEDGED)
                for handler in logging.getLogger().handlers:
                    handler.flush()
                self._die(EXIT_WEDGED)
                return

    def install_signal_handlers(self) -> None:
        def _stop(signum, frame):
            self.stop.set()
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)


def _topic(msg) -> str:
    try:
        return msg.topic
    except Exception:  # not UTF-8 (a broker should refuse it): keep it readable for the quarantine
        return bytes(getattr(msg, "_topic", b"")).decode("utf-8", "backslashreplace")

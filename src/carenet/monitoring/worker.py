"""The ingest worker: MQTT (QoS 1, persistent session, manual acknowledgement) → ingest → rules → DB.

A message is acknowledged to the broker only after the transaction that stored it has committed. If the
worker is killed, the broker redelivers what was not acknowledged; if the database is unreachable, the
worker keeps the batch, retries with back-off and acknowledges nothing meanwhile. Redelivered events
are recognised by (device, event id) and change nothing.
"""
from __future__ import annotations

import collections
import json
import logging
import queue
import re
import signal
import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections, connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from carenet.monitoring import timers
from carenet.monitoring.ingest import SUBSCRIPTION, IngestResult, RawMessage, ingest, quarantine_failed

log = logging.getLogger("carenet.ingest")

# Life-safety kinds take the urgent lane: their own thread, connection and small transactions.
# A cheap byte search; a false positive only means a message takes the fast lane.
URGENT = re.compile(rb'"kind"\s*:\s*"(sos|fall|smoke|water_leak)"')


URGENT_MAX_AGE_S = 120
URGENT_BATCH = 10  # small transactions: the first SOS of a burst is committed without waiting for the rest


def is_urgent(payload: bytes, now: float | None = None) -> bool:
    """A life-safety event from the last two minutes. Older ones (a backlog after an outage, a replay) keep
    their place in the ordered bulk lane, so the rules see each home's events in time order."""
    if not URGENT.search(payload):
        return False
    try:
        body = json.loads(payload)
        events = body.get("events", [body])
        stamps = [e.get("ts") for e in events if isinstance(e, dict)]
        now = now or time.time()
        return bool(stamps) and all(isinstance(t, (int, float)) and now - t < URGENT_MAX_AGE_S for t in stamps)
    except (ValueError, AttributeError, TypeError):
        return False  # malformed: the bulk lane quarantines it with the reason


def parse_mqtt_url(url: str) -> tuple[str, int]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


class IngestWorker:
    def __init__(self, mqtt_url: str, client_id: str = "carenet-ingest", batch_size: int = 100,
                 batch_wait: float = 0.02, tick_every: float = 1.0, session_expiry: int = 7 * 24 * 3600,
                 subscription: str = SUBSCRIPTION, accept_old: bool = False):
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
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.urgent_inbox: queue.Queue = queue.Queue()
        self.stats_lock = threading.Lock()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)

    # -- MQTT ---------------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        client.subscribe(self.subscription, qos=1)
        self.connected.set()
        log.info("connected to %s:%s as %s (session present: %s)", self.host, self.port, self.client_id,
                 flags.session_present)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self.stop.is_set():
            log.warning("MQTT disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg):
        # Fresh life-safety messages go to their own thread and connection, never behind bulk traffic.
        (self.urgent_inbox if is_urgent(msg.payload) else self.inbox).put(msg)

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

    # -- main loop ------------------------------------------------------------------------------
    def run(self, idle_exit: float | None = None, max_seconds: float | None = None) -> dict:
        self.connect()
        urgent_thread = threading.Thread(target=self._urgent_loop, name="urgent-lane", daemon=True)
        urgent_thread.start()
        started = last_tick = last_msg = time.monotonic()
        try:
            while not self.stop.is_set():
                batch = self._next_batch()
                now = time.monotonic()
                if batch:
                    self._process(batch)
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
            urgent_thread.join(timeout=10)
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

    def _process(self, batch: list) -> None:
        raws = [RawMessage(m.payload, "mqtt", m.topic, tag=(m.mid, m.qos)) for m in batch]
        attempt = 0
        while True:
            try:
                try:
                    result = ingest(raws, accept_old=self.accept_old)
                except DatabaseError:
                    raise
                except Exception:  # a bug on some message: never a crash loop on redelivery
                    log.exception("batch of %d failed; retrying one message at a time", len(raws))
                    result = self._one_at_a_time(raws)
                break
            except DatabaseError as exc:
                attempt += 1
                self.stats["db_retries"] += 1
                log.warning("database unavailable (%s: %s); keeping %d messages unacknowledged, retry %d",
                            exc.__class__.__name__, exc, len(raws), attempt)
                connection.close()
                if self.stop.wait(min(10.0, 0.2 * 2 ** min(attempt, 6))):
                    return  # shutting down: nothing acknowledged, the broker will redeliver
                close_old_connections()
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
                part = ingest([raw], accept_old=self.accept_old)
            except DatabaseError:
                raise
            except Exception as exc:
                log.exception("message on %s quarantined: processing error", raw.topic)
                quarantine_failed(raw, exc)
                total.rejected["processing_error"] += 1
                continue
            total.accepted += part.accepted
            total.duplicates += part.duplicates
            total.alarm_ids += part.alarm_ids
            for reason, n in part.rejected.items():
                total.rejected[reason] += n
        return total

    def _tick(self) -> None:
        if not self.tick_gate.is_set():
            return
        try:
            self.stats["alarms"] += timers.run_tick()
        except DatabaseError as exc:
            log.warning("timer tick skipped, database unavailable (%s)", exc.__class__.__name__)
            connection.close()

    def install_signal_handlers(self) -> None:
        def _stop(signum, frame):
            self.stop.set()
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

"""WebSocket /ws/alarms/: pushes new and changed alarms to connected staff browsers.

The feed reads committed rows (Alarm.updated), so it works across processes with any database and needs
no broker: the ingest worker and the web server share only the database.

- PostgreSQL: every alarm change is followed by NOTIFY carenet_alarms after its commit (alarms.notify). One
  LISTEN connection per web process (per event loop) wakes every open console, which then re-reads. The
  re-read still looks back over feed.OVERLAP and still runs every SAFETY_SECONDS without a notification: a
  missed NOTIFY (a change made without one, the LISTEN connection lost and being re-opened) delays a row by at
  most that, it never loses it.
- SQLite (and PostgreSQL while the LISTEN connection is down): the re-read runs every POLL_SECONDS.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import connection

from carenet.core.roles import can
from carenet.monitoring.feed import SentFilter, changed_since

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1    # without LISTEN: one indexed query that usually returns nothing, 10 per second per console
SAFETY_SECONDS = 1.0  # with LISTEN: the re-read runs at least this often anyway
CHANNEL = "carenet_alarms"
RECONNECT_SECONDS = 1.0


class Listener:
    """One LISTEN connection for the consoles of one event loop; wakes them all on each notification."""

    def __init__(self):
        self.waiters: set[asyncio.Event] = set()
        self.live = asyncio.Event()  # set while LISTEN is active
        self.task: asyncio.Task | None = None

    def subscribe(self) -> asyncio.Event:
        wake = asyncio.Event()
        self.waiters.add(wake)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        return wake

    def unsubscribe(self, wake: asyncio.Event) -> None:
        self.waiters.discard(wake)
        if not self.waiters and self.task is not None:
            self.task.cancel()  # the last console left: close the connection
            self.task = None
            self.live.clear()

    def _wake_all(self) -> None:
        for wake in self.waiters:
            wake.set()

    async def _run(self) -> None:
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True)
                try:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.live.set()
                    self._wake_all()  # anything committed while we were not listening
                    async for _ in conn.notifies():
                        self._wake_all()
                finally:
                    self.live.clear()
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("alarm feed LISTEN connection lost (%s); polling until it is back", exc.__class__.__name__)
                self.live.clear()
                await asyncio.sleep(RECONNECT_SECONDS)


def _conninfo() -> dict:
    db = settings.DATABASES["default"]
    info = {"dbname": db["NAME"], "user": db.get("USER") or None, "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None, "port": db.get("PORT") or None}
    if connection.settings_dict.get("NAME") != db["NAME"]:  # tests: the test database
        info["dbname"] = connection.settings_dict["NAME"]
    return {k: v for k, v in info.items() if v is not None}


_listeners: dict[asyncio.AbstractEventLoop, Listener] = {}


def listener() -> Listener:
    loop = asyncio.get_running_loop()
    for old in [k for k in _listeners if k.is_closed()]:
        del _listeners[old]
    if loop not in _listeners:
        _listeners[loop] = Listener()
    return _listeners[loop]


def uses_listen() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "CARENET_FEED_LISTEN", True)


class AlarmFeedConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not can(user, "alarms.view"):
            await self.close(code=4403)
            return
        await self.accept()
        self.cursor: dt.datetime | None = None
        self.listener = listener() if uses_listen() else None
        self.wake = self.listener.subscribe() if self.listener else None
        self.task = asyncio.create_task(self._pump(user))

    async def disconnect(self, code):
        task = getattr(self, "task", None)
        if task:
            task.cancel()
        if getattr(self, "wake", None) is not None:
            self.listener.unsubscribe(self.wake)
            self.wake = None

    async def _wait(self) -> None:
        if self.wake is None:
            await asyncio.sleep(POLL_SECONDS)
            return
        timeout = SAFETY_SECONDS if self.listener.live.is_set() else POLL_SECONDS
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        self.wake.clear()

    async def _pump(self, user):
        fetch = database_sync_to_async(changed_since)
        sent = SentFilter()
        rows, self.cursor = await fetch(user, None)
        await self.send_json({"type": "snapshot", "alarms": sent.fresh(rows)})
        while True:
            await self._wait()
            rows, self.cursor = await fetch(user, self.cursor)
            rows = sent.fresh(rows)
            if rows:
                await self.send_json({"type": "changes", "alarms": rows})

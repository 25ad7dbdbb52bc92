"""WebSocket /ws/alarms/: pushes new and changed alarms to connected staff browsers.

The feed reads committed rows (Alarm.updated), so it works across processes with any database and needs
no broker: the ingest worker and the web server share only the database. It checks every 100 ms.
"""
import asyncio
import datetime as dt

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from carenet.core.roles import can
from carenet.monitoring.feed import SentFilter, changed_since

POLL_SECONDS = 0.1  # one indexed query that usually returns nothing; 10 per second per open console


class AlarmFeedConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not can(user, "alarms.view"):
            await self.close(code=4403)
            return
        await self.accept()
        self.cursor: dt.datetime | None = None
        self.task = asyncio.create_task(self._pump(user))

    async def disconnect(self, code):
        task = getattr(self, "task", None)
        if task:
            task.cancel()

    async def _pump(self, user):
        fetch = database_sync_to_async(changed_since)
        sent = SentFilter()
        rows, self.cursor = await fetch(user, None)
        await self.send_json({"type": "snapshot", "alarms": sent.fresh(rows)})
        while True:
            await asyncio.sleep(POLL_SECONDS)
            rows, self.cursor = await fetch(user, self.cursor)
            rows = sent.fresh(rows)
            if rows:
                await self.send_json({"type": "changes", "alarms": rows})

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from carenet.monitoring.ingest import ingest
from tests.monitoring.conftest import message

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(user):
    from carenet.asgi import application

    comm = WebsocketCommunicator(application, "/ws/alarms/", headers=[(b"origin", b"http://localhost")])
    comm.scope["user"] = user
    return comm


async def _first(comm):
    connected, _ = await comm.connect()
    assert connected
    return await comm.receive_json_from(timeout=5)


def test_new_alarm_is_pushed_to_an_operator(area, home):
    async def run():
        comm = _communicator(area.operator)
        snapshot = await _first(comm)
        assert snapshot == {"type": "snapshot", "alarms": []}
        await sync_to_async(ingest)([message(home.device("sos_button"), "sos")])
        pushed = await comm.receive_json_from(timeout=5)
        assert pushed["type"] == "changes"
        assert [a["type"] for a in pushed["alarms"]] == ["sos"]
        assert pushed["alarms"][0]["name"] == "甲老人"
        await comm.disconnect()
    async_to_sync(run)()


def test_feed_is_scoped_to_the_users_area(area, home):
    async def run():
        comm = _communicator(area.worker_b)  # community B: elder A's alarm is not theirs
        assert (await _first(comm))["alarms"] == []
        await sync_to_async(ingest)([message(home.device("sos_button"), "sos")])
        assert await comm.receive_nothing(timeout=1)
        await comm.disconnect()
    async_to_sync(run)()


def test_roles_without_alarm_access_are_refused(area):
    async def run():
        comm = _communicator(area.helper)
        connected, _ = await comm.connect()
        assert not connected
    async_to_sync(run)()


def test_a_late_commit_inside_the_overlap_is_still_sent_once(area, home):
    """An alarm stamped before the cursor but committed after it must still reach the console, once."""
    import datetime as dt

    from carenet.monitoring.feed import SentFilter, changed_since
    from carenet.monitoring.models import Alarm

    sent = SentFilter()
    rows, cursor = changed_since(area.operator, None)
    ingest([message(home.device("sos_button"), "sos")])
    alarm = Alarm.objects.get()
    Alarm.objects.filter(pk=alarm.pk).update(updated=cursor - dt.timedelta(seconds=1))  # stamped "before" the cursor
    rows, cursor = changed_since(area.operator, cursor)
    assert [r["id"] for r in sent.fresh(rows)] == [alarm.pk]
    rows, cursor = changed_since(area.operator, cursor)
    assert sent.fresh(rows) == []


@pytest.mark.postgres
def test_on_postgresql_the_feed_is_woken_by_notify_not_by_polling(area, home, monkeypatch):
    """With both re-read intervals set to 30 s, only the worker's NOTIFY can bring the alarm within 5 s."""
    from carenet.monitoring import consumers

    monkeypatch.setattr(consumers, "POLL_SECONDS", 30.0)
    monkeypatch.setattr(consumers, "SAFETY_SECONDS", 30.0)

    async def run():
        comm = _communicator(area.operator)
        assert (await _first(comm))["alarms"] == []
        hub = consumers.listener()
        await asyncio.wait_for(hub.live.wait(), 10)
        await sync_to_async(ingest)([message(home.device("sos_button"), "sos")])
        pushed = await comm.receive_json_from(timeout=5)
        assert [a["type"] for a in pushed["alarms"]] == ["sos"]
        await comm.disconnect()
        assert not hub.waiters and hub.task is None  # the last console closed the LISTEN connection
    async_to_sync(run)()


@pytest.mark.postgres
def test_a_missed_notify_is_caught_by_the_safety_re_read(area, home, monkeypatch):
    """A change committed without NOTIFY still reaches the console, by the periodic re-read."""
    from carenet.monitoring import alarms, consumers

    monkeypatch.setattr(consumers, "SAFETY_SECONDS", 0.5)
    monkeypatch.setattr(alarms, "notify", lambda ids: None)

    async def run():
        comm = _communicator(area.operator)
        assert (await _first(comm))["alarms"] == []
        await asyncio.wait_for(consumers.listener().live.wait(), 10)
        await sync_to_async(ingest)([message(home.device("sos_button"), "sos")])
        pushed = await comm.receive_json_from(timeout=5)
        assert [a["type"] for a in pushed["alarms"]] == ["sos"]
        await comm.disconnect()
    async_to_sync(run)()

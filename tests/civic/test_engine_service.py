"""Service-item requests and small wishes: every transition, reopen period, rating."""
import datetime as dt

import pytest

from carenet.civic.engine import service, wish
from carenet.civic.engine.common import InvalidTransitionError, MissingDataError, ReopenExpiredError

NOW = dt.datetime(2026, 3, 2, 9, 0)  # a Monday
GOOD = {"route": {"to": "社区"}, "request_docs": {}, "supply_docs": {}, "complete": {}, "refuse": {},
        "rate": {"score": 5}, "reopen": {}, "withdraw": {}}


@pytest.mark.parametrize("state,action", [(s, a) for s in service.STATES for a in service.ACTIONS])
def test_every_service_pair(state, action):
    snap = service.Snapshot(state=state, clock_from=NOW.date(), decided_on=NOW.date())
    if state in service.ACTIONS[action].sources:
        new, entry = service.transition(snap, action, NOW, reason="理由", data=GOOD[action])
        assert new.state == service.ACTIONS[action].target == entry.to_state
    else:
        with pytest.raises(InvalidTransitionError):
            service.transition(snap, action, NOW, reason="理由", data=GOOD[action])


def test_documents_restart_the_clock_and_reopen_has_a_period():
    snap = service.new(NOW.date())
    snap, _ = service.transition(snap, "route", NOW, data={"to": "民政办"})
    snap, _ = service.transition(snap, "request_docs", NOW, reason="缺户口本复印件")
    later = NOW + dt.timedelta(days=3)
    snap, _ = service.transition(snap, "supply_docs", later)
    assert snap.clock_from == later.date() and snap.state == service.ROUTED
    snap, _ = service.transition(snap, "complete", later)
    assert service.reopen_until(snap) == dt.date(2026, 3, 26)  # 15 working days after Thursday 5 March
    snap2, _ = service.transition(snap, "reopen", dt.datetime(2026, 3, 26, 17), reason="证明有误")
    assert snap2.state == service.ROUTED and snap2.reopened == 1 and snap2.decided_on is None
    with pytest.raises(ReopenExpiredError):
        service.transition(snap, "reopen", dt.datetime(2026, 3, 27, 9), reason="太晚了")


def test_rating_is_one_to_five():
    snap = service.Snapshot(state=service.DONE, decided_on=NOW.date())
    for bad in (0, 6, "好"):
        with pytest.raises(MissingDataError):
            service.transition(snap, "rate", NOW, data={"score": bad})
    rated, _ = service.transition(snap, "rate", NOW, data={"score": "4"})
    assert rated.score == 4 and rated.state == service.RATED


@pytest.mark.parametrize("state,action", [(s, a) for s in wish.STATES for a in wish.ACTIONS])
def test_every_wish_pair(state, action):
    snap = wish.Snapshot(state=state, claimer="志愿者")
    data = {"claimer": "红马甲志愿队"} if action == "claim" else {}
    if state in wish.ACTIONS[action].sources:
        new, _ = wish.transition(snap, action, NOW, reason="理由", data=data)
        assert new.state == wish.ACTIONS[action].target
    else:
        with pytest.raises(InvalidTransitionError):
            wish.transition(snap, action, NOW, reason="理由", data=data)


def test_wish_path():
    snap = wish.Snapshot()
    snap, _ = wish.transition(snap, "claim", NOW, data={"claimer": "区税务局党支部"})
    assert snap.claimer == "区税务局党支部"
    snap, _ = wish.transition(snap, "release", NOW, reason="无法按时送达")
    assert snap.state == wish.PUBLISHED and snap.claimer == ""
    for action, data in (("claim", {"claimer": "张师傅"}), ("deliver", {}), ("confirm", {})):
        snap, _ = wish.transition(snap, action, NOW, data=data)
    assert snap.state == wish.CONFIRMED and snap.claimer == "张师傅"
    with pytest.raises(MissingDataError):
        wish.transition(wish.Snapshot(), "claim", NOW, data={})

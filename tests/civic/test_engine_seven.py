"""The seven-step machine (七单): every allowed and every refused transition, guards, quorum."""
import datetime as dt
from decimal import Decimal

import pytest

from carenet.civic.engine import council, seven
from carenet.civic.engine.common import (InvalidTransitionError, MissingDataError, MissingReasonError,
                                         QuorumNotReachedError, VoteNotPassedError)

NOW = dt.datetime(2026, 3, 2, 9, 0)
GOOD = {
    "screen": {}, "merge": {"into": "7"}, "out_of_scope": {}, "withdraw": {},
    "draft_plan": {"plan": "修路灯", "cost": "1200", "owner": "社区居委会"}, "to_council": {},
    "decide": {"members": 9, "yes": 6, "no": 1, "abstain": 0}, "revise": {"plan": "修路灯（更换为LED）"},
    "resubmit": {}, "publish": {}, "start_delivery": {}, "progress": {"note": "已采购灯具"},
    "complete": {"result": "路灯已修好"}, "confirm": {}, "dispute": {},
}
REASON = {a: "理由" for a, s in seven.ACTIONS.items() if s.reason_required}
PAIRS = [(state, action) for state in seven.STATES for action in seven.ACTIONS]


def snap_in(state):
    return seven.Snapshot(state=state, vote_passed=True if state == seven.REVISING else None)


@pytest.mark.parametrize("state,action", PAIRS)
def test_every_pair_is_allowed_or_refused(state, action):
    snap = snap_in(state)
    if state in seven.ACTIONS[action].sources:
        new, entry = seven.transition(snap, action, NOW, reason=REASON.get(action, ""), data=GOOD[action])
        assert new.state == seven.ACTIONS[action].target == entry.to_state
        assert entry.from_state == state and entry.action == action
    else:
        with pytest.raises(InvalidTransitionError):
            seven.transition(snap, action, NOW, reason="理由", data=GOOD[action])


def test_terminal_states_allow_nothing():
    for state in seven.TERMINAL:
        assert seven.allowed_actions(seven.Snapshot(state=state)) == []


def test_all_seven_steps_in_order():
    snap, steps = seven.Snapshot(), [seven.STEP_OF_STATE[seven.RECEIVED]]
    for action in ("screen", "draft_plan", "to_council", "decide", "publish", "start_delivery", "progress",
                   "complete", "confirm"):
        snap, _ = seven.transition(snap, action, NOW, data=GOOD[action])
        steps.append(seven.STEP_OF_STATE[snap.state])
    assert list(dict.fromkeys(steps)) == list(seven.STEPS)
    assert snap.state == seven.CLOSED and snap.cost == Decimal("1200.00") and snap.progress == 1


def test_reasons_and_data_are_required():
    with pytest.raises(MissingReasonError):
        seven.transition(seven.Snapshot(), "out_of_scope", NOW, reason="  ")
    with pytest.raises(MissingDataError):
        seven.transition(seven.Snapshot(state=seven.SCREENED), "draft_plan", NOW, data={"plan": "x", "owner": "y"})
    with pytest.raises(MissingDataError):
        seven.transition(seven.Snapshot(state=seven.SCREENED), "draft_plan", NOW,
                         data={"plan": "x", "owner": "y", "cost": "很多"})
    with pytest.raises(MissingDataError):
        seven.transition(seven.Snapshot(state=seven.SCREENED), "draft_plan", NOW,
                         data={"plan": "x", "owner": "y", "cost": "-5"})
    with pytest.raises(InvalidTransitionError):
        seven.transition(seven.Snapshot(), "merge", NOW, data={"into": "3", "self": "3"})


def test_council_without_quorum_stays_in_council():
    snap = seven.Snapshot(state=seven.COUNCIL)
    with pytest.raises(QuorumNotReachedError):
        seven.transition(snap, "decide", NOW, data={"members": 9, "yes": 4, "no": 1, "abstain": 0})


def test_failed_vote_must_go_back_to_the_council():
    snap, _ = seven.transition(seven.Snapshot(state=seven.COUNCIL), "decide", NOW,
                               data={"members": 9, "yes": 2, "no": 4, "abstain": 1})
    assert snap.state == seven.REVISING and snap.vote_passed is False
    assert "publish" not in seven.allowed_actions(snap)
    with pytest.raises(VoteNotPassedError):
        seven.transition(snap, "publish", NOW)
    snap, _ = seven.transition(snap, "revise", NOW, data={"plan": "新方案", "cost": "800"})
    snap, _ = seven.transition(snap, "resubmit", NOW)
    assert snap.state == seven.COUNCIL and snap.vote_passed is None and snap.cost == Decimal("800.00")
    snap, _ = seven.transition(snap, "decide", NOW, data={"members": 9, "yes": 5, "no": 1, "abstain": 0})
    snap, _ = seven.transition(snap, "publish", NOW)
    assert snap.state == seven.PUBLISHED and snap.votes == 2


@pytest.mark.parametrize("members,yes,no,abstain,quorate,passed", [
    (9, 6, 0, 0, True, True),     # exactly the quorum of 6
    (9, 3, 2, 0, False, False),   # 5 < 6
    (9, 3, 3, 0, True, False),    # a tie does not pass
    (9, 4, 1, 2, True, True),     # 4 of 7 present
    (9, 3, 1, 3, True, False),    # abstentions count as present, not as yes
    (3, 2, 0, 0, True, True),
])
def test_tally(members, yes, no, abstain, quorate, passed):
    r = council.tally(members, yes, no, abstain)
    assert (r.quorate, r.passed) == (quorate, passed)


def test_tally_refuses_impossible_counts():
    with pytest.raises(ValueError):
        council.tally(5, 4, 2, 0)
    with pytest.raises(ValueError):
        council.tally(0, 0, 0, 0)
    with pytest.raises(ValueError):
        council.tally(5, -1, 0, 0)

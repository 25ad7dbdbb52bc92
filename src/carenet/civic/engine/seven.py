"""The seven steps of a community request (七单): 收单 筛单 制单 议单 修单 晒单 落单.

Each step is an explicit state; the terminal states are the resident's confirmation (closed), a merge into
another request, out of scope (with a reason) and withdrawal::

    received ──screen──▶ screened ──draft_plan──▶ planned ──to_council──▶ council
       │  └─merge──▶ merged                          ▲                       │ decide (vote with quorum)
       │  └─out_of_scope──▶ out_of_scope             │                       ▼
       └─withdraw──▶ withdrawn               resubmit└──────────────── revising (修单)
                                                                              │ publish (only after a passed vote)
    closed ◀──confirm── completed ◀──complete── delivering ◀──start_delivery── published (晒单)
                           └──dispute──▶ delivering      (progress: delivering → delivering)

``decide`` needs a vote tally that reaches the quorum (``council.tally``); a failed vote also leads to
修单, from which the plan can only go back to the council (``resubmit``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Mapping

from . import council
from .common import (ActionSpec, Entry, InvalidTransitionError, MissingDataError, QuorumNotReachedError,
                     VoteNotPassedError, allowed, check)

RECEIVED, SCREENED, PLANNED, COUNCIL, REVISING, PUBLISHED, DELIVERING, COMPLETED, CLOSED = (
    "received", "screened", "planned", "council", "revising", "published", "delivering", "completed", "closed")
MERGED, OUT_OF_SCOPE, WITHDRAWN = "merged", "out_of_scope", "withdrawn"
STATES = (RECEIVED, SCREENED, PLANNED, COUNCIL, REVISING, PUBLISHED, DELIVERING, COMPLETED, CLOSED,
          MERGED, OUT_OF_SCOPE, WITHDRAWN)
TERMINAL = frozenset({CLOSED, MERGED, OUT_OF_SCOPE, WITHDRAWN})

# The seven steps and the states that belong to each (落单 spans delivery, completion and confirmation).
STEPS = ("收单", "筛单", "制单", "议单", "修单", "晒单", "落单")
STEP_OF_STATE = {RECEIVED: "收单", SCREENED: "筛单", PLANNED: "制单", COUNCIL: "议单", REVISING: "修单",
                 PUBLISHED: "晒单", DELIVERING: "落单", COMPLETED: "落单", CLOSED: "落单",
                 MERGED: "筛单", OUT_OF_SCOPE: "筛单", WITHDRAWN: "收单"}

ACTIONS: dict[str, ActionSpec] = {
    "screen": ActionSpec((RECEIVED,), SCREENED),
    "merge": ActionSpec((RECEIVED, SCREENED), MERGED, required_data=("into",)),
    "out_of_scope": ActionSpec((RECEIVED, SCREENED), OUT_OF_SCOPE, reason_required=True),
    "withdraw": ActionSpec((RECEIVED, SCREENED, PLANNED), WITHDRAWN, reason_required=True),
    "draft_plan": ActionSpec((SCREENED, PLANNED), PLANNED, required_data=("plan", "cost", "owner")),
    "to_council": ActionSpec((PLANNED,), COUNCIL),
    "decide": ActionSpec((COUNCIL,), REVISING, required_data=("members", "yes", "no", "abstain")),
    "revise": ActionSpec((REVISING,), REVISING, required_data=("plan",)),
    "resubmit": ActionSpec((REVISING,), COUNCIL),
    "publish": ActionSpec((REVISING,), PUBLISHED),
    "start_delivery": ActionSpec((PUBLISHED,), DELIVERING),
    "progress": ActionSpec((DELIVERING,), DELIVERING, required_data=("note",)),
    "complete": ActionSpec((DELIVERING,), COMPLETED, required_data=("result",)),
    "confirm": ActionSpec((COMPLETED,), CLOSED),
    "dispute": ActionSpec((COMPLETED,), DELIVERING, reason_required=True),
}


@dataclass(frozen=True)
class Snapshot:
    state: str = RECEIVED
    plan: str = ""
    cost: Decimal | None = None
    owner: str = ""
    vote_passed: bool | None = None  # the last council decision
    votes: int = 0  # council decisions taken so far
    progress: int = 0  # progress updates during 落单


def transition(snap: Snapshot, action: str, now: datetime, *, reason: str = "", data: Mapping | None = None
               ) -> tuple[Snapshot, Entry]:
    """The new snapshot and the history entry, or a CivicError saying why the step is refused."""
    data = dict(data or {})
    spec = check(ACTIONS, snap.state, action, reason, data)
    changes: dict = {}
    if action in ("draft_plan", "revise"):
        changes["plan"] = str(data["plan"]).strip()
        if action == "draft_plan" or data.get("cost") not in (None, ""):
            try:
                cost = Decimal(str(data["cost"])).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                raise MissingDataError("cost must be an amount in yuan") from None
            if cost < 0:
                raise MissingDataError("cost cannot be negative")
            changes["cost"] = cost
            data["cost"] = str(cost)
        if data.get("owner"):
            changes["owner"] = str(data["owner"]).strip()
    if action == "decide":
        result = council.tally(int(data["members"]), int(data["yes"]), int(data["no"]), int(data["abstain"]),
                               quorum=float(data.get("quorum", council.DEFAULT_QUORUM)))
        if not result.quorate:
            raise QuorumNotReachedError(result.explanation)
        changes.update(vote_passed=result.passed, votes=snap.votes + 1)
        data.update(passed=result.passed, explanation=result.explanation)
    if action == "publish" and not snap.vote_passed:
        raise VoteNotPassedError("the council has not passed this plan; revise it and resubmit it to the council")
    if action == "resubmit":
        changes["vote_passed"] = None
    if action == "progress":
        changes["progress"] = snap.progress + 1
    if action == "merge" and str(data.get("into")) == str(data.get("self", "")):
        raise InvalidTransitionError("a request cannot be merged into itself")
    entry = Entry(action, snap.state, spec.target, now, (reason or "").strip(), data)
    return replace(snap, state=spec.target, **changes), entry


def allowed_actions(snap: Snapshot) -> list[str]:
    acts = allowed(ACTIONS, snap.state)
    if snap.state == REVISING and not snap.vote_passed:
        acts.remove("publish")
    return acts

"""A request for a convenience service item (便民服务事项)::

    submitted ──route──▶ routed ──complete──▶ done ──rate──▶ rated
                          │  ▲                 │
           request_docs   ▼  │ supply_docs     │ reopen (within the reopen period, with a reason)
                        need_docs              ▼
                          └──refuse──▶ refused ──rate──▶ rated        (routed → refused too)

``withdraw`` by the applicant before a decision. A reopened request goes back to ``routed`` and its deadline
counts again from the reopening. The deadline clock also restarts when missing documents are supplied (补正).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Mapping

from carenet.core.engine.workdays import DEFAULT_CALENDAR, WorkCalendar

from .common import ActionSpec, Entry, MissingDataError, ReopenExpiredError, allowed, check

SUBMITTED, ROUTED, NEED_DOCS, DONE, REFUSED, RATED, WITHDRAWN = (
    "submitted", "routed", "need_docs", "done", "refused", "rated", "withdrawn")
STATES = (SUBMITTED, ROUTED, NEED_DOCS, DONE, REFUSED, RATED, WITHDRAWN)
OPEN = frozenset({SUBMITTED, ROUTED, NEED_DOCS})
DECIDED = frozenset({DONE, REFUSED, RATED})

DEFAULT_REOPEN_DAYS = 15  # working days after the decision in which the applicant may reopen

ACTIONS: dict[str, ActionSpec] = {
    "route": ActionSpec((SUBMITTED, ROUTED), ROUTED, required_data=("to",)),
    "request_docs": ActionSpec((ROUTED,), NEED_DOCS, reason_required=True),
    "supply_docs": ActionSpec((NEED_DOCS,), ROUTED),
    "complete": ActionSpec((ROUTED,), DONE),
    "refuse": ActionSpec((ROUTED, NEED_DOCS), REFUSED, reason_required=True),
    "rate": ActionSpec((DONE, REFUSED), RATED, required_data=("score",)),
    "reopen": ActionSpec((DONE, REFUSED, RATED), ROUTED, reason_required=True),
    "withdraw": ActionSpec((SUBMITTED, ROUTED, NEED_DOCS), WITHDRAWN, reason_required=True),
}


@dataclass(frozen=True)
class Snapshot:
    state: str = SUBMITTED
    clock_from: date | None = None  # the deadline counts from here (submission, documents supplied, reopening)
    decided_on: date | None = None
    score: int | None = None
    reopened: int = 0


def new(submitted_on: date) -> Snapshot:
    return Snapshot(SUBMITTED, clock_from=submitted_on)


def reopen_until(snap: Snapshot, reopen_days: int = DEFAULT_REOPEN_DAYS,
                 calendar: WorkCalendar = DEFAULT_CALENDAR) -> date | None:
    if snap.decided_on is None or snap.state not in DECIDED:
        return None
    return calendar.add_working_days(snap.decided_on, reopen_days)


def transition(snap: Snapshot, action: str, now: datetime, *, reason: str = "", data: Mapping | None = None,
               reopen_days: int = DEFAULT_REOPEN_DAYS, calendar: WorkCalendar = DEFAULT_CALENDAR
               ) -> tuple[Snapshot, Entry]:
    data = dict(data or {})
    spec = check(ACTIONS, snap.state, action, reason, data)
    today = now.date()
    changes: dict = {}
    if action in ("complete", "refuse"):
        changes["decided_on"] = today
    if action == "supply_docs":
        changes["clock_from"] = today
    if action == "rate":
        try:
            score = int(data["score"])
        except (TypeError, ValueError):
            raise MissingDataError("score must be a whole number from 1 to 5") from None
        if not 1 <= score <= 5:
            raise MissingDataError("score must be from 1 to 5")
        changes["score"] = score
    if action == "reopen":
        until = reopen_until(snap, reopen_days, calendar)
        if until is None or today > until:
            raise ReopenExpiredError(f"the request could be reopened until {until}")
        changes.update(clock_from=today, decided_on=None, score=None, reopened=snap.reopened + 1)
    return replace(snap, state=spec.target, **changes), Entry(action, snap.state, spec.target, now,
                                                               (reason or "").strip(), data)


def allowed_actions(snap: Snapshot) -> list[str]:
    return allowed(ACTIONS, snap.state)

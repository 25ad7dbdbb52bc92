"""The order state machine, the one definition of due and overdue, and helper assignment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Iterable, Sequence

CREATED = "created"
ASSIGNED = "assigned"
ACCEPTED = "accepted"
ON_THE_WAY = "on_the_way"
CHECKED_IN = "checked_in"
CHECKED_OUT = "checked_out"
CONFIRMED = "confirmed"
RATED = "rated"
CANCELLED = "cancelled"
FAILED = "failed"

STATES = (CREATED, ASSIGNED, ACCEPTED, ON_THE_WAY, CHECKED_IN, CHECKED_OUT, CONFIRMED, RATED, CANCELLED, FAILED)
OPEN = (CREATED, ASSIGNED, ACCEPTED, ON_THE_WAY, CHECKED_IN, CHECKED_OUT)
NOT_STARTED = (CREATED, ASSIGNED, ACCEPTED, ON_THE_WAY)
DONE = (CONFIRMED, RATED)          # verified and confirmed: what settlement pays
TERMINAL = (CONFIRMED, RATED, CANCELLED, FAILED)

# action -> (states it may start from, resulting state, who may do it, reason required)
STAFF, HELPER, CONFIRMER = "staff", "helper", "confirmer"
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...], bool]] = {
    "assign": ((CREATED, ASSIGNED, ACCEPTED), ASSIGNED, (STAFF,), False),
    "accept": ((ASSIGNED,), ACCEPTED, (HELPER,), False),
    "decline": ((ASSIGNED, ACCEPTED), CREATED, (HELPER,), True),
    "depart": ((ACCEPTED,), ON_THE_WAY, (HELPER,), False),
    "check_in": ((ACCEPTED, ON_THE_WAY), CHECKED_IN, (HELPER,), False),
    "check_out": ((CHECKED_IN,), CHECKED_OUT, (HELPER,), False),
    "confirm": ((CHECKED_OUT,), CONFIRMED, (CONFIRMER, STAFF), False),
    "rate": ((CONFIRMED,), RATED, (CONFIRMER, STAFF), False),
    "cancel": ((CREATED, ASSIGNED, ACCEPTED, ON_THE_WAY), CANCELLED, (STAFF,), True),
    "fail": ((ASSIGNED, ACCEPTED, ON_THE_WAY, CHECKED_IN), FAILED, (STAFF, HELPER), True),
}


class TransitionError(Exception):
    def __init__(self, code: str, action: str, state: str):
        super().__init__(f"{code}: {action} from {state}")
        self.code, self.action, self.state = code, action, state


def next_state(state: str, action: str, actor: str, reason: str = "") -> str:
    if action not in TRANSITIONS:
        raise TransitionError("unknown_action", action, state)
    sources, target, actors, needs_reason = TRANSITIONS[action]
    if state not in sources:
        raise TransitionError("not_allowed", action, state)
    if actor not in actors:
        raise TransitionError("not_your_step", action, state)
    if needs_reason and not reason.strip():
        raise TransitionError("reason_required", action, state)
    return target


def actions_from(state: str, actor: str) -> list[str]:
    return [a for a, (src, _t, actors, _r) in TRANSITIONS.items() if state in src and actor in actors]


# ------------------------------------------------------------------ due / overdue: the one definition

DUE_WINDOW = timedelta(hours=2)       # an unstarted order is "due" from 2 h before its time
START_GRACE = timedelta(minutes=30)   # ... and "overdue" 30 min after it without a check-in
FINISH_GRACE = timedelta(minutes=30)  # a visit is overdue 30 min after its maximum duration without a check-out
CONFIRM_GRACE = timedelta(hours=24)   # a checked-out order unconfirmed for a day is overdue

ON_TIME, DUE, OVERDUE = "on_time", "due", "overdue"


def timeliness(state: str, scheduled_at: datetime, now: datetime, *, checked_in_at: datetime | None = None,
               checked_out_at: datetime | None = None, max_minutes: int = 120) -> str:
    """``due``, ``overdue`` or ``on_time``; every list, dashboard and reminder asks this function."""
    if state in TERMINAL:
        return ON_TIME
    if state in NOT_STARTED:
        if now > scheduled_at + START_GRACE:
            return OVERDUE
        return DUE if now >= scheduled_at - DUE_WINDOW else ON_TIME
    if state == CHECKED_IN and checked_in_at is not None:
        return OVERDUE if now > checked_in_at + timedelta(minutes=max_minutes) + FINISH_GRACE else DUE
    if state == CHECKED_OUT and checked_out_at is not None:
        return OVERDUE if now > checked_out_at + CONFIRM_GRACE else DUE
    return DUE


def overdue_cutoffs(now: datetime) -> dict[str, datetime]:
    """The same definition as query bounds: an unstarted order is overdue when scheduled before
    ``not_started``; due when scheduled before ``due``; a checked-out one overdue when out before
    ``unconfirmed``. (A checked-in visit depends on its service's maximum: see ``timeliness``.)"""
    return {"not_started": now - START_GRACE, "due": now + DUE_WINDOW, "unconfirmed": now - CONFIRM_GRACE,
            "finish_grace": now - FINISH_GRACE}


# ------------------------------------------------------------------ assignment

@dataclass(frozen=True)
class Candidate:
    helper_id: int
    provider_id: int
    skills: frozenset[str]
    area_paths: tuple[str, ...]         # the helper's service area(s), materialised division paths
    provider_paths: tuple[str, ...]     # the areas the provider's contract covers
    work_start: time
    work_end: time
    contract_ok: bool = True
    busy: tuple[tuple[datetime, datetime], ...] = ()
    load: int = 0                       # orders already that day


def _covers(paths: Sequence[str], target: str) -> bool:
    return any(target == p or target.startswith(p + "/") for p in paths)


def rank_candidates(candidates: Iterable[Candidate], *, service: str, elder_path: str, start: datetime,
                    minutes: int) -> list[tuple[Candidate, list[str]]]:
    """Every candidate with the reasons it cannot take the order (empty = it can), best first:
    able candidates by lightest load, then the rest."""
    end = start + timedelta(minutes=minutes)
    out = []
    for c in candidates:
        why = []
        if not c.contract_ok:
            why.append("contract")
        if not _covers(c.provider_paths, elder_path):
            why.append("provider_area")
        if service not in c.skills:
            why.append("skill")
        if not _covers(c.area_paths, elder_path):
            why.append("area")
        if not (c.work_start <= start.time() and end.date() == start.date() and end.time() <= c.work_end):
            why.append("hours")
        if any(s < end and start < e for s, e in c.busy):
            why.append("busy")
        out.append((c, why))
    out.sort(key=lambda p: (bool(p[1]), len(p[1]), p[0].load, p[0].helper_id))
    return out


def best_candidate(candidates: Iterable[Candidate], **kw: Any) -> Candidate | None:
    ranked = rank_candidates(candidates, **kw)
    return ranked[0][0] if ranked and not ranked[0][1] else None

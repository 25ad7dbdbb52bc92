"""Small wishes (微心愿): publish → claimed by a volunteer or unit → delivered → confirmed."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Mapping

from .common import ActionSpec, Entry, allowed, check

PUBLISHED, CLAIMED, DELIVERED, CONFIRMED, CANCELLED = "published", "claimed", "delivered", "confirmed", "cancelled"
STATES = (PUBLISHED, CLAIMED, DELIVERED, CONFIRMED, CANCELLED)

ACTIONS: dict[str, ActionSpec] = {
    "claim": ActionSpec((PUBLISHED,), CLAIMED, required_data=("claimer",)),
    "release": ActionSpec((CLAIMED,), PUBLISHED, reason_required=True),
    "deliver": ActionSpec((CLAIMED,), DELIVERED),
    "confirm": ActionSpec((DELIVERED,), CONFIRMED),
    "cancel": ActionSpec((PUBLISHED, CLAIMED), CANCELLED, reason_required=True),
}


@dataclass(frozen=True)
class Snapshot:
    state: str = PUBLISHED
    claimer: str = ""


def transition(snap: Snapshot, action: str, now: datetime, *, reason: str = "", data: Mapping | None = None
               ) -> tuple[Snapshot, Entry]:
    data = dict(data or {})
    spec = check(ACTIONS, snap.state, action, reason, data)
    claimer = str(data["claimer"]).strip() if action == "claim" else "" if action == "release" else snap.claimer
    return replace(snap, state=spec.target, claimer=claimer), Entry(action, snap.state, spec.target, now,
                                                                     (reason or "").strip(), data)


def allowed_actions(snap: Snapshot) -> list[str]:
    return allowed(ACTIONS, snap.state)

"""What every civic state machine shares: the history entry, the errors and the transition result."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping


class CivicError(Exception):
    code = "civic.error"


class InvalidTransitionError(CivicError):
    code = "civic.invalid_transition"


class MissingReasonError(CivicError):
    code = "civic.missing_reason"


class MissingDataError(CivicError):
    code = "civic.missing_data"


class QuorumNotReachedError(CivicError):
    code = "civic.quorum_not_reached"


class VoteNotPassedError(CivicError):
    code = "civic.vote_not_passed"


class ReopenExpiredError(CivicError):
    code = "civic.reopen_expired"


@dataclass(frozen=True)
class ActionSpec:
    sources: tuple[str, ...]
    target: str
    reason_required: bool = False
    required_data: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One transition, as persisted in the history table."""

    action: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str = ""
    data: Mapping = field(default_factory=dict)


def check(actions: Mapping[str, ActionSpec], state: str, action: str, reason: str, data: Mapping) -> ActionSpec:
    """The spec of `action` if it is allowed from `state` with this reason and data, else a CivicError."""
    spec = actions.get(action)
    if spec is None:
        raise InvalidTransitionError(f"unknown action {action!r}")
    if state not in spec.sources:
        raise InvalidTransitionError(f"cannot {action} from state {state!r}")
    if spec.reason_required and not (reason or "").strip():
        raise MissingReasonError(f"{action} requires a written reason")
    missing = [k for k in spec.required_data if data.get(k) in (None, "", [])]
    if missing:
        raise MissingDataError(f"{action} requires {', '.join(missing)}")
    return spec


def allowed(actions: Mapping[str, ActionSpec], state: str) -> list[str]:
    return [a for a, s in actions.items() if state in s.sources]


def choices(field: dict) -> list[tuple[str, str]]:
    """A list field's choices as (key, name) pairs. A choice is stored as its name alone (key = name) or, when a
    city system needs a stable code, as {"key": ..., "name": ...} (Open311 GeoReport v2 attribute values)."""
    out = []
    for v in field.get("values", []) or []:
        if isinstance(v, dict):
            key = str(v.get("key", "")).strip()
            out.append((key, str(v.get("name", "")).strip() or key))
        else:
            out.append((str(v), str(v)))
    return out


def choice_text(value: str) -> object:
    """The editor's "key=name" (or plain name) as a stored choice."""
    key, sep, name = value.partition("=")
    key, name = key.strip(), name.strip()
    return {"key": key, "name": name} if sep and key and name and key != name else (name or key)

"""Registry status machine: planning → operating → suspended → closed, every move with a reason."""
from __future__ import annotations

PLANNING, OPERATING, SUSPENDED, CLOSED = "planning", "operating", "suspended", "closed"
STATUSES = (PLANNING, OPERATING, SUSPENDED, CLOSED)

TRANSITIONS: dict[str, frozenset[str]] = {
    PLANNING: frozenset({OPERATING, CLOSED}),
    OPERATING: frozenset({SUSPENDED, CLOSED}),
    SUSPENDED: frozenset({OPERATING, CLOSED}),
    CLOSED: frozenset(),
}


class TransitionError(ValueError):
    """A status move the registry does not allow (code names the reason)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check_transition(current: str, target: str, reason: str) -> None:
    """Raise TransitionError unless `current` → `target` is allowed and a reason is given."""
    if current not in TRANSITIONS or target not in TRANSITIONS:
        raise TransitionError("unknown_status", f"unknown status {current!r} or {target!r}")
    if target == current:
        raise TransitionError("same_status", f"already {current}")
    if target not in TRANSITIONS[current]:
        raise TransitionError("not_allowed", f"{current} cannot become {target}")
    if not (reason or "").strip():
        raise TransitionError("reason_required", "a status change needs a reason")


def allowed_targets(current: str) -> list[str]:
    return [s for s in STATUSES if s in TRANSITIONS.get(current, ())]

"""The one way to ask "may this user do X here?".

    from carenet.core.permissions import needs, require, require_in_area

    @needs("homecare.view")                 # views: login required, then the capability (403 otherwise)
    def order_list(request): ...

    @transaction.atomic
    def accept_order(user, order):          # services: check before writing
        require(user, "homecare.work")
        require_in_area(user, order.elder.resident.division)
        ...

Every refusal leaves a DENIED audit row, and the row survives the rollback of the refused write: inside a
transaction the row is written after the exception has left the atomic block (by `needs` for a view, or at the
end of the request by `DenialAuditMiddleware`, even when a view caught the refusal to show a message), outside a
transaction it is written at once.
Role sets live only in `core/roles.py`.
"""
from __future__ import annotations

import contextvars
import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection

from carenet.core.roles import can
from carenet.core.scoping import path_visible_to


class Denied(PermissionDenied):
    """A refusal with its reason; `audited` turns true once its DENIED audit row is written."""

    def __init__(self, user, note: str, division_path: str = ""):
        super().__init__(note)
        self.user = user
        self.note = note
        self.division_path = division_path
        self.audited = False


def audit_denial(exc: Denied) -> None:
    """Write the DENIED row for `exc` once (idempotent), outside any rolled-back transaction."""
    if exc.audited:
        return
    from carenet.core import audit
    from carenet.core.models import AuditLog

    user = exc.user if getattr(exc.user, "is_authenticated", False) else None
    audit.record(AuditLog.Action.DENIED, actor=user, note=exc.note, division_path=exc.division_path)
    exc.audited = True


def in_transaction() -> bool:
    """True inside a transaction opened by our code (a test case's own wrapping transaction does not count)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


# Refusals raised inside a transaction during the current request, written once the request is done.
pending_denials: contextvars.ContextVar[list | None] = contextvars.ContextVar("pending_denials", default=None)


def _deny(user, note: str, division_path: str = "") -> Denied:
    exc = Denied(user, note, division_path)
    if not in_transaction():
        audit_denial(exc)
    else:
        pending = pending_denials.get()
        if pending is not None:
            pending.append(exc)
    return exc


def require(user, capability: str) -> None:
    """Raise `Denied` (a PermissionDenied, so a 403) unless the user's role has `capability`."""
    if not can(user, capability):
        raise _deny(user, f"missing capability {capability}")


def require_in_area(user, division) -> None:
    """Raise `Denied` unless `division` (a Division or its path) lies in the user's subtree."""
    path = division if isinstance(division, str) else getattr(division, "path", "")
    if not path or not path_visible_to(user, path):
        raise _deny(user, "record outside your jurisdiction", path or "")


def needs(*capabilities: str):
    """View decorator: login required, then every capability listed; a refusal is a 403 with an audit row."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            for capability in capabilities:
                require(request.user, capability)
            try:
                return view(request, *args, **kwargs)
            except Denied as exc:
                if not in_transaction():
                    audit_denial(exc)
                raise

        return login_required(wrapped)

    return decorator

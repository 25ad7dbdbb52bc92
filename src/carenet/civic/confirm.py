"""落单: the resident confirms for themselves that a community request is done (or says it is not).

The worker who completes a request gives the resident a private link (SMS or printed slip) carrying a signed
token; the resident opens it without a staff login, reads the result and confirms or disputes it. A resident
signed in on the home page as the request's reporter may do the same without the token. Every confirmation is
a CivicEvent (shown on the public 晒单 page) and an audit row naming the resident and how they confirmed.
"""
from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.civic import models as m
from carenet.civic.access import CivicServiceError
from carenet.civic.engine import seven
from carenet.core import audit
from carenet.core.models import AuditLog

SALT = "carenet.civic.resident-confirm"
MAX_AGE_S = 60 * 24 * 3600   # the link works for 60 days after completion


def token_for(req: m.CommunityRequest) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{req.pk}")


def request_for_token(token: str) -> m.CommunityRequest | None:
    try:
        pk = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE_S)
    except signing.BadSignature:   # includes SignatureExpired
        return None
    return m.CommunityRequest.objects.select_related("division").filter(pk=int(pk)).first() if pk.isdigit() else None


@transaction.atomic
def resident_confirm(req: m.CommunityRequest, *, done: bool, via: str, resident=None, reason: str = "",
                     ) -> m.CommunityRequest:
    """The resident's own 落单 confirmation (`done`) or dispute (back to delivery, with their reason)."""
    req = m.CommunityRequest.objects.select_for_update().select_related("division").get(pk=req.pk)
    if resident is not None and req.reporter_id != resident.pk:
        raise CivicServiceError(_("Only the resident who raised the request can confirm it."))
    if req.state != seven.COMPLETED:
        raise CivicServiceError(_("There is nothing to confirm now."))
    if not done and not (reason or "").strip():
        raise CivicServiceError(_("Tell us what is still not done."))
    at = timezone.now()
    action = "confirm" if done else "dispute"
    data = {"by": "resident", "via": via}
    new, entry = seven.transition(req.snapshot(), action, at, reason=reason, data=data)
    before = audit.snapshot(req)
    req.state = new.state
    if done:
        req.closed_at = at
    req.save()
    name = (req.reporter.name if req.reporter_id else req.reporter_name) or _("the resident")
    m.CivicEvent.objects.create(community_request=req, action=action, from_state=entry.from_state or "",
                                to_state=entry.to_state, actor=None, actor_label=name[:60], reason=entry.reason,
                                data=data, public=True, at=at)
    audit.record(AuditLog.Action.UPDATE, req, actor=None, before=before, after=audit.snapshot(req),
                 division_path=req.division.path, note=f"civic.qidan {action} by the resident ({via})")
    return req

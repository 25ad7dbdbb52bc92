"""HTTP batch ingest for vendor clouds: POST /api/devices/events with `Authorization: Bearer <vendor token>`.

It lives beside the MQTT worker because it is the same ingest path; `devices` (the registry) imports nothing
from `monitoring`. Every event gets its own answer (accepted, duplicate, or rejected with a reason) and every
reject is quarantined. No input answers 500: a body that is not a readable batch is 400 (413 when too large),
and a database that cannot be reached is 503, so the vendor retries later and nothing is lost.
"""
import logging

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from carenet.devices.models import Vendor, hash_token
from carenet.monitoring.ingest import MAX_BYTES, RawMessage, connection_lost, ingest, quarantine_failed

log = logging.getLogger("carenet.ingest")
router = Router(tags=["devices"])


class VendorToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        try:
            vendor = Vendor.objects.filter(token_hash=hash_token(token), active=True).first()
        except UnicodeEncodeError:
            return None
        if vendor is not None:
            request.vendor = vendor
        return vendor


class Rejected(Schema):
    index: int | None
    reason: str
    detail: str


class EventAnswer(Schema):
    index: int
    status: str  # accepted | duplicate | rejected
    reason: str = ""
    detail: str = ""


class BatchResult(Schema):
    accepted: int
    duplicates: int
    rejected: list[Rejected]
    events: list[EventAnswer]


class Problem(Schema):
    detail: str


def _answer(result) -> dict:
    events = sorted(((ei, status, reason, detail) for _, ei, status, reason, detail in result.outcomes
                     if ei is not None), key=lambda e: e[0])
    return {"accepted": result.accepted, "duplicates": result.duplicates,
            "rejected": [{"index": ei, "reason": reason, "detail": detail}
                         for _, ei, reason, detail in result.rejections if reason != "duplicate"],
            "events": [{"index": ei, "status": status, "reason": reason, "detail": detail}
                       for ei, status, reason, detail in events]}


@router.post("/events", auth=VendorToken(), response={200: BatchResult, 400: BatchResult, 413: BatchResult,
                                                      503: Problem})
def post_events(request):
    """Body: {"events": [{"device_id", "id", "ts", "kind", "value"}, ...]} (at most 1000 events, 64 KB).
    Answers each event in `events` (in the order sent); 400 when the body as a whole cannot be read."""
    raw = RawMessage(request.body[:MAX_BYTES + 1], source="http", vendor=request.vendor)
    try:
        result = ingest([raw])
    except Exception as exc:
        if connection_lost(exc):
            return Status(503, {"detail": "database unavailable; nothing was stored, send the batch again later"})
        log.exception("HTTP batch from vendor %s failed; quarantined", request.vendor.pk)
        try:
            quarantine_failed(raw, exc)
        except Exception:
            log.exception("could not quarantine the failed HTTP batch")
            return Status(503, {"detail": "could not process the batch; send it again later"})
        return Status(400, {"accepted": 0, "duplicates": 0, "events": [], "rejected": [
            {"index": None, "reason": "processing_error", "detail": f"{exc.__class__.__name__}"}]})
    body = _answer(result)
    whole = [r for r in result.rejections if r[1] is None]
    if whole:  # the body itself was refused: nothing in it was stored
        return Status(413 if whole[0][2] == "oversized" and len(request.body) > MAX_BYTES else 400, body)
    return Status(200, body)

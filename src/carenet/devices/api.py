"""HTTP batch ingest for vendor clouds: POST /api/devices/events with `Authorization: Bearer <vendor token>`."""
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from carenet.devices.models import Vendor, hash_token
from carenet.monitoring.ingest import MAX_BYTES, RawMessage, ingest

router = Router(tags=["devices"])


class VendorToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        vendor = Vendor.objects.filter(token_hash=hash_token(token), active=True).first()
        if vendor is not None:
            request.vendor = vendor
        return vendor


class Rejected(Schema):
    index: int | None
    reason: str
    detail: str


class BatchResult(Schema):
    accepted: int
    duplicates: int
    rejected: list[Rejected]


@router.post("/events", auth=VendorToken(), response={200: BatchResult, 413: dict})
def post_events(request):
    """Body: {"events": [{"device_id", "id", "ts", "kind", "value"}, ...]} (at most 1000 events, 64 KB)."""
    if len(request.body) > MAX_BYTES:
        ingest([RawMessage(request.body[:MAX_BYTES + 1], source="http", vendor=request.vendor)])
        return Status(413, {"detail": f"body larger than {MAX_BYTES} bytes"})
    result = ingest([RawMessage(request.body, source="http", vendor=request.vendor)])
    return Status(200, {"accepted": result.accepted, "duplicates": result.duplicates,
                 "rejected": [{"index": ei, "reason": reason, "detail": detail}
                              for _, ei, reason, detail in result.rejections if reason != "duplicate"]})

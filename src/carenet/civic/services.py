"""The only place that writes civic data (service requests, community requests, wishes, the catalogue).

Every write runs in ``transaction.atomic`` with its audit row; the state machines are the pure engine's
(``engine.seven``, ``engine.service``, ``engine.wish``); applicants are notified after commit through the
notification backend of the call center (``callcenter.notify.get_backend``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carenet.civic import departments
from carenet.civic import models as m
# Home access codes and Open311 clients live in civic/access.py; callers may keep using services.
from carenet.civic.access import (  # noqa: F401
    LOCK_MINUTES, MAX_FAILURES, CivicServiceError, client_for_key, create_api_client, home_login, issue_home_access,
    key_hash,
)
from carenet.civic.engine import deadlines, seven, service, wish
from carenet.civic.engine.common import CivicError, Entry, choices  # noqa: F401  (services.CivicError for callers)
from carenet.core import audit
from carenet.core.engine.workdays import WorkCalendar
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.people.models import Resident

log = logging.getLogger("carenet.civic")

# Beyond the years the holiday package knows, count Monday-Friday (as assistance does).
CALENDAR = WorkCalendar(fallback="weekends")
REOPEN_DAYS = 15  # working days after the decision in which the applicant may reopen a request
WARN_DAYS = 1  # due soon: at most this many working days left
ESCALATE_DAYS = 2  # escalated to the district when overdue by this many working days
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
SEND_NOTIFICATIONS = True  # the demo seeder turns it off while it writes history
CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue.json"
FIELD_TYPES = ("string", "text", "number", "datetime", "singlevaluelist", "multivaluelist")

ERROR_MESSAGES = {
    "civic.invalid_transition": gettext_lazy("This step is not possible in the request's current state."),
    "civic.missing_reason": gettext_lazy("A written reason is required for this step."),
    "civic.missing_data": gettext_lazy("Some required information is missing or invalid."),
    "civic.quorum_not_reached": gettext_lazy(
        "The council has no quorum: not enough members took part. The vote was not recorded."),
    "civic.vote_not_passed": gettext_lazy(
        "The council did not pass this plan: revise it and submit it to the council again."),
    "civic.reopen_expired": gettext_lazy("The period in which this request could be reopened has ended."),
}


def error_message(exc: Exception) -> str:
    code = getattr(exc, "code", "")
    if isinstance(exc, CivicServiceError):
        return str(exc)
    msg = ERROR_MESSAGES.get(code)
    if msg is not None:
        return str(msg)
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


# ------------------------------------------------------------------ catalogue

def check_fields(fields) -> list[dict]:
    """Validate a form-field list (Open311 attributes): code, label, datatype, required, values."""
    if not isinstance(fields, list):
        raise CivicServiceError(_("The form fields must be a list."))
    seen, out = set(), []
    for i, f in enumerate(fields, 1):
        if not isinstance(f, dict) or not str(f.get("code", "")).strip() or not str(f.get("label", "")).strip():
            raise CivicServiceError(_("Field %(n)s needs a code and a label.") % {"n": i})
        code = str(f["code"]).strip()
        if code in seen:
            raise CivicServiceError(_("Field code %(code)s is used twice.") % {"code": code})
        seen.add(code)
        datatype = f.get("datatype", "string")
        if datatype not in FIELD_TYPES:
            raise CivicServiceError(_("Field %(code)s has an unknown type.") % {"code": code})
        pairs = choices(f) if datatype.endswith("valuelist") else []
        if datatype.endswith("valuelist") and (not pairs or any(not k for k, _n in pairs)):
            raise CivicServiceError(_("Field %(code)s needs a list of choices.") % {"code": code})
        if len({k for k, _n in pairs}) != len(pairs):
            raise CivicServiceError(_("Field %(code)s has the same choice twice.") % {"code": code})
        values = [k if k == n else {"key": k, "name": n} for k, n in pairs]
        out.append({"code": code, "label": str(f["label"]).strip(), "datatype": datatype,
                    "required": bool(f.get("required", True)), "values": values, "help": str(f.get("help", ""))})
    return out


def load_catalogue(path: Path = CATALOGUE_FILE, *, update: bool = False) -> tuple[int, int]:
    """Load the starter catalogue (data file). Items already there are kept as the district edited them
    unless ``update``. Returns (created, updated)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    created = updated = 0
    with transaction.atomic():
        for row in data["items"]:
            values = {"name": row["name"], "category": row["category"], "department": row["department"],
                      "documents": list(row.get("documents", [])), "fields": check_fields(row.get("fields", [])),
                      "deadline_days": int(row["deadline_days"]), "fully_online": bool(row.get("fully_online")),
                      "help_text": row.get("help_text", "")}
            item = m.ServiceItem.objects.filter(code=row["code"]).first()
            if item is None:
                item = m.ServiceItem.objects.create(code=row["code"], **values)
                created += 1
            elif update:
                for k, v in values.items():
                    setattr(item, k, v)
                item.save()
                updated += 1
        if created or updated:
            audit.record(AuditLog.Action.CREATE, model="civic.serviceitem", object_id="catalogue",
                         note=f"civic catalogue loaded: {created} created, {updated} updated")
    return created, updated


@transaction.atomic
def save_item(user, item: m.ServiceItem) -> m.ServiceItem:
    """Create or update a catalogue item (the district's own catalogue)."""
    require(user, "civic.catalogue")
    item.fields = check_fields(item.fields)
    if item.deadline_days < 1 or item.deadline_days > 365:
        raise CivicServiceError(_("The deadline must be between 1 and 365 working days."))
    before = audit.snapshot(m.ServiceItem.objects.get(pk=item.pk)) if item.pk else None
    created = item.pk is None
    item.save()
    audit.record(AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE, item, actor=user, before=before,
                 after=audit.snapshot(item), note="civic.catalogue")
    return item


def clean_answers(item: m.ServiceItem, raw) -> dict:
    """The item's own form fields, validated; a ValidationError names each bad field (in the user's language)."""
    raw = raw or {}
    answers, errors = {}, {}
    for f in item.fields:
        code, value = f["code"], raw.get(f["code"])
        if isinstance(value, (list, tuple)) and f["datatype"] != "multivaluelist":
            value = value[0] if value else ""
        value = value.strip() if isinstance(value, str) else value
        if value in (None, "", []):
            if f.get("required"):
                errors[code] = _("%(label)s: please fill this in.") % {"label": f["label"]}
            continue
        if f["datatype"] == "number":
            try:
                value = str(Decimal(str(value)))
            except (InvalidOperation, ValueError):
                errors[code] = _("%(label)s: please enter a number.") % {"label": f["label"]}
                continue
        elif f["datatype"] == "datetime":
            try:
                value = dt.date.fromisoformat(str(value)[:10]).isoformat()
            except ValueError:
                errors[code] = _("%(label)s: please enter a date.") % {"label": f["label"]}
                continue
        elif f["datatype"] == "singlevaluelist" and str(value) not in {k for k, _n in choices(f)}:
            errors[code] = _("%(label)s: please choose one of the options.") % {"label": f["label"]}
            continue
        elif f["datatype"] == "multivaluelist":
            value = [value] if isinstance(value, str) else list(value)
            if any(str(v) not in {k for k, _n in choices(f)} for v in value):
                errors[code] = _("%(label)s: please choose from the options.") % {"label": f["label"]}
                continue
        else:
            value = str(value)[:2000]
        answers[code] = value
    if errors:
        raise ValidationError(errors)
    return answers


# ------------------------------------------------------------------ photos

def check_photo(upload) -> tuple[str, int]:
    """(content type, size) of a real image within the size cap, else a CivicServiceError."""
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", None) or 0
    if size > MAX_PHOTO_BYTES:
        raise CivicServiceError(_("Photo %(name)s is larger than %(mb)s MB.") % {
            "name": getattr(upload, "name", ""), "mb": MAX_PHOTO_BYTES // (1024 * 1024)})
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise CivicServiceError(_("%(name)s is not a photo.") % {"name": getattr(upload, "name", "")}) from None
    finally:
        upload.seek(0)
    if fmt not in PHOTO_FORMATS:
        raise CivicServiceError(_("%(name)s: only JPEG, PNG, WebP or GIF photos can be attached.") % {
            "name": getattr(upload, "name", "")})
    return PHOTO_FORMATS[fmt], size


def _add_photos(req: m.ServiceRequest, photos, actor=None) -> None:
    photos = list(photos or [])
    if len(photos) + req.attachments.count() > MAX_PHOTOS:
        raise CivicServiceError(_("At most %(n)s photos can be attached.") % {"n": MAX_PHOTOS})
    for upload in photos:
        ct, size = check_photo(upload)
        a = m.Attachment.objects.create(request=req, file=upload, content_type=ct, size=size)
        audit.record(AuditLog.Action.CREATE, a, actor=actor, division_path=req.division.path,
                     after={"request": req.pk, "file": a.file.name, "size": size})


# ------------------------------------------------------------------ service requests

def due_for(req: m.ServiceRequest) -> dt.date | None:
    if req.clock_from is None or req.state not in service.OPEN:
        return req.due_on
    return deadlines.due_date(req.clock_from, req.item.deadline_days, CALENDAR)


def _event(actor, actor_label: str, entry, **target) -> m.CivicEvent:
    return m.CivicEvent.objects.create(action=entry.action, from_state=entry.from_state or "", to_state=entry.to_state,
                                       actor=actor, actor_label=actor_label[:60], reason=entry.reason,
                                       data=_jsonable(entry.data), at=entry.at, **target)


def _jsonable(data) -> dict:
    return json.loads(json.dumps(dict(data), default=str))


@transaction.atomic
def submit_request(*, item: m.ServiceItem, answers: dict, applicant: Resident | None = None,
                   user=None, consent_note: str = "", description: str = "", photos=(), channel: str = "",
                   division: Division | None = None, contact_name: str = "", contact_phone: str = "",
                   address: str = "", lat=None, lon=None, external_id: str = "",
                   api_client: m.ApiClient | None = None) -> m.ServiceRequest:
    """Apply for an item: from home (``applicant`` only, no staff user), by a worker or operator on the
    applicant's behalf (``user`` + recorded consent), or by a city system through Open311 (``api_client``)."""
    if not item.active:
        raise CivicServiceError(_("This item is no longer offered."))
    answers = clean_answers(item, answers)
    label = ""
    if user is not None:
        require(user, "civic.apply")
        if applicant is None:
            raise CivicServiceError(_("Choose the resident you apply for."))
        require_in_area(user, applicant.division)
        if not consent_note.strip():
            raise CivicServiceError(_("Record the resident's consent to apply on their behalf."))
        channel = channel or (m.Channel.OPERATOR if user.role == "operator" else m.Channel.WORKER)
    elif api_client is not None:
        channel, label = m.Channel.OPEN311, f"open311:{api_client.name}"
        division = division or api_client.division
    elif applicant is not None:
        channel, label = m.Channel.HOME, applicant.name
    else:
        raise CivicServiceError(_("Who is applying?"))
    division = applicant.division if applicant is not None else division
    if division is None:
        raise CivicServiceError(_("The request needs an area."))
    at = now()
    snap = service.new(timezone.localdate(at))
    req = m.ServiceRequest.objects.create(
        item=item, applicant=applicant, division=division, channel=channel, answers=answers,
        description=description.strip()[:4000], address=address[:200], lat=lat, lon=lon, state=snap.state,
        contact_name=contact_name[:50], contact_phone=contact_phone[:20], clock_from=snap.clock_from,
        consent_note=consent_note.strip()[:200] if user is not None else "",
        consent_at=at if user is not None else None, external_id=external_id[:60], created_by=user, created=at)
    req.due_on = due_for(req)
    req.save(update_fields=["due_on"])
    _add_photos(req, photos, user)
    ev = _event(user, label, Entry("submit", None, snap.state, at, "", {"channel": channel,
                                                                           "consent": req.consent_note}),
                service_request=req)
    audit.record(AuditLog.Action.CREATE, req, actor=user, after=_safe_snapshot(req),
                 note=f"civic.request {item.code} via {channel}")
    transaction.on_commit(lambda: notify(req.pk, ev.pk))
    return req


def _safe_snapshot(req: m.ServiceRequest) -> dict:
    """The audit row keeps the request without the contact phone in clear."""
    snap = audit.snapshot(req)
    if snap.get("contact_phone"):
        snap["contact_phone"] = snap["contact_phone"][:3] + "****" + snap["contact_phone"][-4:]
    return snap


RESIDENT_ACTIONS = {"rate", "reopen", "withdraw", "supply_docs"}
STAFF_ACTIONS = {"route", "request_docs", "supply_docs", "complete", "refuse", "reopen", "withdraw"}


@transaction.atomic
def act_on_request(req: m.ServiceRequest, action: str, *, user=None, resident: Resident | None = None,
                   reason: str = "", data: dict | None = None, photos=()) -> m.ServiceRequest:
    """One step on a service request, by staff (``user``) or by the applicant (``resident``)."""
    req = m.ServiceRequest.objects.select_for_update().select_related("item", "division").get(pk=req.pk)
    data = dict(data or {})
    if user is not None:
        if action not in STAFF_ACTIONS:
            raise CivicServiceError(_("Only the applicant can do this."))
        require(user, "civic.handle")
        require_in_area(user, req.division)
        departments.check_user(user, req, action)
        label = ""
    else:
        if resident is None or req.applicant_id != resident.pk or action not in RESIDENT_ACTIONS:
            raise CivicServiceError(_("Only the applicant can do this."))
        label = resident.name
    department = None
    if action == "route":
        department = departments.route_target(req, data)
        data["to"] = department.name if department else str(data.get("to", "")).strip() or req.item.department
        if department:
            data["department"] = department.pk
    # the engine counts dates: give it local time (the working day in China, not in UTC)
    new, entry = service.transition(req.snapshot(), action, timezone.localtime(now()), reason=reason, data=data,
                                    reopen_days=REOPEN_DAYS, calendar=CALENDAR)
    before = _safe_snapshot(req)
    req.state, req.clock_from, req.decided_on, req.score, req.reopened = (
        new.state, new.clock_from, new.decided_on, new.score, new.reopened)
    if action == "route":
        req.routed_to = str(data["to"]).strip()[:60]
        req.department = department
    elif action == "request_docs":
        req.docs_requested = entry.reason
    elif action in ("complete", "refuse"):
        req.outcome = (entry.reason or str(data.get("note", ""))).strip()
    elif action == "rate":
        req.rating_comment = str(data.get("comment", "")).strip()[:200]
    elif action == "reopen":
        req.escalated = False
    if action in ("supply_docs",) or photos:
        _add_photos(req, photos, user)
    req.due_on = due_for(req) if new.state in service.OPEN else req.due_on
    req.save()
    ev = _event(user, label, entry, service_request=req)
    audit.record(AuditLog.Action.UPDATE, req, actor=user, before=before, after=_safe_snapshot(req),
                 note=f"civic.request {action}" + (f" by resident {resident.pk}" if resident else ""))
    transaction.on_commit(lambda: notify(req.pk, ev.pk))
    return req


def deadline_status(req: m.ServiceRequest, on: dt.date | None = None):
    if req.state not in service.OPEN or req.due_on is None:
        return None
    return deadlines.status(req.due_on, on or today(), warn_days=WARN_DAYS, escalate_days=ESCALATE_DAYS,
                            calendar=CALENDAR)


def escalate_overdue(on: dt.date | None = None) -> int:
    """Mark requests overdue by ESCALATE_DAYS working days as escalated to the district (once each)."""
    on = on or today()
    count = 0
    for req in m.ServiceRequest.objects.filter(state__in=service.OPEN, escalated=False, due_on__lt=on
                                               ).select_related("division"):
        st = deadline_status(req, on)
        if st is None or st.level < deadlines.ESCALATED:
            continue
        with transaction.atomic():
            m.ServiceRequest.objects.filter(pk=req.pk).update(escalated=True)
            m.CivicEvent.objects.create(service_request=req, action="escalate", from_state=req.state,
                                        to_state=req.state, actor_label="deadline",
                                        data={"due": req.due_on.isoformat(), "overdue_days": -st.remaining})
            audit.record(AuditLog.Action.UPDATE, req, note=f"civic.request escalated, {-st.remaining} working days overdue",
                         before={"escalated": False}, after={"escalated": True})
        count += 1
    return count


# ------------------------------------------------------------------ notifications

STATE_MESSAGES = {
    "submit": gettext_lazy("[CareNet] Your application %(number)s (%(item)s) was received. It is due by %(due)s."),
    "route": gettext_lazy("[CareNet] Your application %(number)s (%(item)s) is being handled by %(to)s."),
    "request_docs": gettext_lazy("[CareNet] Application %(number)s needs more documents: %(reason)s"),
    "supply_docs": gettext_lazy("[CareNet] The documents for application %(number)s were received."),
    "complete": gettext_lazy("[CareNet] Your application %(number)s (%(item)s) is done. Please rate the service."),
    "refuse": gettext_lazy("[CareNet] Your application %(number)s (%(item)s) was refused: %(reason)s"),
    "reopen": gettext_lazy("[CareNet] Application %(number)s was reopened and is being handled again."),
    "withdraw": gettext_lazy("[CareNet] Application %(number)s was withdrawn."),
}


def notify(request_id: int, event_id: int, backend=None) -> int:
    """Tell the applicant about one change (SMS through the configured backend), once per (event, phone)."""
    from carenet.callcenter.notify import Recipient, SendResult, get_backend

    req = m.ServiceRequest.objects.select_related("item", "applicant").filter(pk=request_id).first()
    ev = m.CivicEvent.objects.filter(pk=event_id).first()
    if req is None or ev is None or ev.action not in STATE_MESSAGES or not SEND_NOTIFICATIONS:
        return 0
    phone = (req.applicant.phone if req.applicant_id else "") or req.contact_phone
    if not phone:
        return 0
    backend = backend or get_backend()
    with translation.override(settings.LANGUAGE_CODE):
        text = str(STATE_MESSAGES[ev.action]) % {
            "number": req.number, "item": req.item.name, "due": req.due_on or "", "to": req.routed_to,
            "reason": ev.reason}
    try:
        with transaction.atomic():
            row = m.CivicNotification.objects.create(request=req, event=ev, address=phone, text=text[:300],
                                                     backend=backend.name)
    except IntegrityError:
        return 0
    elder = getattr(req.applicant, "elder", None) if req.applicant_id else None
    recipient = Recipient(req.applicant_name, phone, elder.pk if elder else 0)
    try:
        result = backend.send(recipient, "sms", text[:300])
    except Exception as exc:  # a gateway failure must not break the caller
        log.exception("notification backend %s failed", backend.name)
        result = SendResult(False, f"{exc.__class__.__name__}: {exc}"[:200])
    if not result.ok:
        m.CivicNotification.objects.filter(pk=row.pk).update(ok=False, error=result.error[:200])
    return int(result.ok)


# ------------------------------------------------------------------ community requests (七单)

@transaction.atomic
def receive(user, *, division: Division, category: str, title: str, description: str, source: str = "resident",
            reporter: Resident | None = None, reporter_name: str = "", reporter_phone: str = "", location: str = "",
            lat=None, lon=None, at: dt.datetime | None = None) -> m.CommunityRequest:
    """收单: intake of a residents' request (from a resident, a grid worker or a visit)."""
    require(user, "civic.community")
    require_in_area(user, division)
    if category not in m.Category.values or source not in m.Source.values:
        raise CivicServiceError(_("Choose the type and source of the request."))
    if not title.strip() or not description.strip():
        raise CivicServiceError(_("A title and a description are required."))
    at = at or now()
    req = m.CommunityRequest.objects.create(
        division=division, category=category, title=title.strip()[:100], description=description.strip(),
        source=source, reporter=reporter, reporter_name=(reporter.name if reporter else reporter_name)[:50],
        reporter_phone=(reporter.phone if reporter else reporter_phone)[:20], location=location[:200],
        lat=lat, lon=lon, created_by=user, created=at)
    m.CivicEvent.objects.create(community_request=req, action="receive", to_state=req.state, actor=user,
                                data={"source": source}, at=at)
    audit.record(AuditLog.Action.CREATE, req, actor=user, note="civic.qidan 收单")
    return req


PUBLISH_ACTIONS = {"publish"}
PUBLIC_ACTIONS = {"publish", "start_delivery", "progress", "complete", "confirm"}


@transaction.atomic
def community_act(user, req: m.CommunityRequest, action: str, *, reason: str = "", data: dict | None = None,
                  at: dt.datetime | None = None) -> m.CommunityRequest:
    """One of the seven steps, validated by the engine, persisted with its event and audit row."""
    require(user, "civic.publish" if action in PUBLISH_ACTIONS else "civic.community")
    req = m.CommunityRequest.objects.select_for_update().select_related("division").get(pk=req.pk)
    require_in_area(user, req.division)
    data = dict(data or {})
    target = None
    if action == "merge":
        target = m.CommunityRequest.objects.visible_to(user).filter(pk=data.get("into") or 0).first()
        if target is None or target.state in seven.TERMINAL:
            raise CivicServiceError(_("Choose an open request in your area to merge into."))
        data.update(into=str(target.pk), self=str(req.pk))
    at = at or now()
    new, entry = seven.transition(req.snapshot(), action, at, reason=reason, data=data)
    before = audit.snapshot(req)
    req.state, req.plan, req.cost, req.owner = new.state, new.plan, new.cost, new.owner
    req.vote_passed, req.votes, req.progress = new.vote_passed, new.votes, new.progress
    if action == "decide":
        m.CouncilVote.objects.create(request=req, members=int(data["members"]), yes=int(data["yes"]),
                                     no=int(data["no"]), abstain=int(data["abstain"]), passed=bool(new.vote_passed),
                                     explanation=entry.data["explanation"][:200], recorded_by=user, at=at)
    if action == "merge":
        req.merged_into = target
    if action == "publish":
        req.published_at = at
    if action == "complete":
        req.result = str(data["result"]).strip()
    if action == "confirm":
        req.closed_at = at
    req.save()
    m.CivicEvent.objects.create(community_request=req, action=action, from_state=entry.from_state or "",
                                to_state=entry.to_state, actor=user, reason=entry.reason, data=_jsonable(entry.data),
                                public=action in PUBLIC_ACTIONS, at=at)
    audit.record(AuditLog.Action.UPDATE, req, actor=user, before=before, after=audit.snapshot(req),
                 note=f"civic.qidan {action} ({new.state})")
    return req


@transaction.atomic
def save_answer(user, req: m.CommunityRequest, text: str, *, publish: bool = False) -> m.CommunityRequest:
    """The answer shown on the public page: drafted privately, published later (by civic.publish)."""
    require(user, "civic.publish" if publish else "civic.community")
    require_in_area(user, req.division)
    if req.state not in (seven.PUBLISHED, seven.DELIVERING, seven.COMPLETED, seven.CLOSED):
        raise CivicServiceError(_("The answer can be published once the plan is published (晒单)."))
    before = audit.snapshot(req)
    req.answer_draft = text.strip()
    if publish:
        if not req.answer_draft:
            raise CivicServiceError(_("Write the answer before publishing it."))
        req.answer, req.answer_published_at = req.answer_draft, now()
    req.save()
    audit.record(AuditLog.Action.UPDATE, req, actor=user, before=before, after=audit.snapshot(req),
                 note="civic.qidan answer " + ("published" if publish else "draft"))
    return req


# ------------------------------------------------------------------ small wishes (微心愿)

@transaction.atomic
def publish_wish(user, *, division: Division, title: str, description: str = "",
                 beneficiary: Resident | None = None, at=None) -> m.Wish:
    require(user, "civic.community")
    require_in_area(user, division)
    if not title.strip():
        raise CivicServiceError(_("Describe the wish."))
    w = m.Wish.objects.create(division=division, title=title.strip()[:100], description=description.strip(),
                              beneficiary=beneficiary, created_by=user, created=at or now())
    m.CivicEvent.objects.create(wish=w, action="publish", to_state=w.state, actor=user, at=w.created)
    audit.record(AuditLog.Action.CREATE, w, actor=user, note="civic.wish")
    return w


@transaction.atomic
def wish_act(user, w: m.Wish, action: str, *, reason: str = "", data: dict | None = None, at=None) -> m.Wish:
    require(user, "civic.community")
    w = m.Wish.objects.select_for_update().select_related("division").get(pk=w.pk)
    require_in_area(user, w.division)
    new, entry = wish.transition(wish.Snapshot(w.state, w.claimer), action, at or now(), reason=reason, data=data)
    before = audit.snapshot(w)
    w.state, w.claimer = new.state, new.claimer
    w.save()
    m.CivicEvent.objects.create(wish=w, action=action, from_state=entry.from_state or "", to_state=new.state,
                                actor=user, reason=entry.reason, data=_jsonable(entry.data), at=entry.at)
    audit.record(AuditLog.Action.UPDATE, w, actor=user, before=before, after=audit.snapshot(w),
                 note=f"civic.wish {action}")
    return w


"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), so that the 12345 hotline and city systems can
list the service items, create requests and follow their status.

    GET  /open311/v2/discovery.json
    GET  /open311/v2/services.json                 the catalogue (service_code = item code)
    GET  /open311/v2/services/<service_code>.json  its form fields as attributes
    POST /open311/v2/requests.json                 api_key required (form-encoded, attribute[code]=value)
    GET  /open311/v2/requests.json                 status of requests (service_request_id, service_code,
                                                   start_date, end_date, status), newest 1000 / 90 days
    GET  /open311/v2/requests/<id>.json            status of one request

Formats: JSON and XML (the spec's required format). ``jurisdiction_id`` is a division code (the district or a
street); without it the whole deployment answers. Public reads never carry personal data: descriptions are
masked and a home address is reduced to the community's name; a client's own requests (api_key given) keep
the address it sent.
"""
from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.core import signing
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from carenet.civic import models as m
from carenet.civic import services
from carenet.civic.engine import masking, service
from carenet.civic.engine.common import choices
from carenet.core.models import Division
from carenet.people.models import Resident

MAX_RESULTS = 1000
DEFAULT_SPAN = dt.timedelta(days=90)


class ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


# ------------------------------------------------------------------ rendering

def _xml(value, tag: str) -> str:
    if isinstance(value, list):
        child = {"services": "service", "service_requests": "request", "attributes": "attribute",
                 "values": "value", "errors": "error"}.get(tag, "item")
        return f"<{tag}>" + "".join(_xml(v, child) for v in value) + f"</{tag}>"
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml(v, k) for k, v in value.items()) + f"</{tag}>"
    if value is None:
        return f"<{tag}/>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def respond(data, fmt: str, root: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + _xml(data, root)
        return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)
    return JsonResponse(data, safe=False, status=status, json_dumps_params={"ensure_ascii": False},
                        content_type="application/json; charset=utf-8")


def api_view(root: str):
    def decorator(view):
        @csrf_exempt
        def wrapped(request, *args, fmt="json", **kwargs):
            if fmt not in ("json", "xml"):
                return respond([{"code": 400, "description": f"format {fmt} is not supported; use json or xml"}],
                               "json", "errors", 400)
            try:
                return respond(view(request, *args, **kwargs), fmt, root)
            except ApiError as exc:
                return respond([{"code": exc.status, "description": exc.description}], fmt, "errors", exc.status)
        return wrapped
    return decorator


def w3(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = timezone.make_aware(dt.datetime.combine(value, dt.time(17, 30)))
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def jurisdiction(request) -> Division | None:
    code = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if not code:
        return None
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ApiError(404, f"jurisdiction_id {code} was not found")
    return division


def in_division(division: Division | None, field="division__path") -> Q:
    if division is None:
        return Q()
    return Q(**{field: division.path}) | Q(**{f"{field}__startswith": division.path + "/"})


# ------------------------------------------------------------------ services

def service_json(item: m.ServiceItem) -> dict:
    return {"service_code": item.code, "service_name": item.name,
            "description": item.help_text, "metadata": bool(item.fields), "type": "realtime",
            "keywords": ", ".join([item.category, item.department] + (["全程网办"] if item.fully_online else [])),
            "group": item.category}


@api_view("services")
def services_list(request):
    jurisdiction(request)
    return [service_json(i) for i in m.ServiceItem.objects.filter(active=True)]


@api_view("service_definition")
def service_definition(request, code):
    jurisdiction(request)
    item = m.ServiceItem.objects.filter(code=code, active=True).first()
    if item is None:
        raise ApiError(404, f"service_code {code} was not found")
    attrs = []
    for order, f in enumerate(item.fields, 1):
        a = {"variable": True, "code": f["code"], "datatype": f["datatype"], "required": bool(f.get("required")),
             "datatype_description": f.get("help") or None, "order": order, "description": f["label"]}
        if f["datatype"].endswith("valuelist"):
            a["values"] = [{"key": k, "name": n} for k, n in choices(f)]
        attrs.append(a)
    if item.documents:
        attrs.append({"variable": False, "code": "documents", "datatype": "text", "required": False,
                      "datatype_description": None, "order": len(attrs) + 1,
                      "description": "所需材料：" + "、".join(item.documents)})
    return {"service_code": item.code, "attributes": attrs}


# ------------------------------------------------------------------ requests

def attributes(post) -> dict:
    """attribute[code]=value and attribute[code][]=v1&attribute[code][]=v2 (multivaluelist)."""
    out: dict = {}
    for key in post:
        if not key.startswith("attribute[") or not key.endswith("]"):
            continue
        inner = key[len("attribute["):]
        if inner.endswith("][]"):
            out[inner[:-3]] = post.getlist(key)
        else:
            out[inner[:-1]] = post.get(key)
    return out


@api_view("service_requests")
def requests_endpoint(request):
    if request.method == "POST":
        return create_request(request)
    if request.method != "GET":
        raise ApiError(400, "use GET or POST")
    return list_requests(request)


def _float(value, name):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a number") from None


def create_request(request):
    p = request.POST
    client = services.client_for_key(p.get("api_key", ""))
    if client is None:
        raise ApiError(403, "api_key is missing or invalid")
    area = jurisdiction(request)
    if area is not None and not (area.path == client.division.path or area.path.startswith(client.division.path + "/")):
        raise ApiError(403, "this api_key may not create requests in that jurisdiction_id")
    code = (p.get("service_code") or "").strip()
    if not code:
        raise ApiError(400, "service_code was not provided")
    item = m.ServiceItem.objects.filter(code=code, active=True).first()
    if item is None:
        raise ApiError(404, f"service_code {code} was not found")
    lat, lon = _float(p.get("lat"), "lat"), _float(p.get("long"), "long")
    if (lat is None) != (lon is None):
        raise ApiError(400, "lat and long must be sent together")
    address = (p.get("address_string") or p.get("address_id") or "").strip()
    if lat is None and not address:
        raise ApiError(400, "a location is required: lat and long, address_string or address_id")
    phone = (p.get("phone") or "").strip()
    scope = area or client.division
    applicant = None
    if phone:
        applicant = Resident.objects.filter(in_division(scope), phone=phone, deceased_on__isnull=True).first()
    name = " ".join(x for x in ((p.get("last_name") or "").strip(), (p.get("first_name") or "").strip()) if x)
    # media: the photo itself, sent as a multipart file `media` (stored and served by us through media_url).
    # A remote `media_url` is NOT fetched: the server has no internet access at run time, and fetching URLs a
    # client names would let it make this server call anywhere on the intranet (SSRF).
    try:
        req = services.submit_request(
            item=item, answers=attributes(p), applicant=applicant, api_client=client,
            division=applicant.division if applicant else scope, contact_name=name, contact_phone=phone,
            description=(p.get("description") or "")[:4000], address=address, lat=lat, lon=lon,
            external_id=(p.get("account_id") or p.get("device_id") or "")[:60],
            photos=request.FILES.getlist("media"))
    except ValidationError as exc:
        raise ApiError(400, "; ".join(f"attribute[{k}]: {', '.join(v)}" for k, v in exc.message_dict.items())) from None
    except services.CivicServiceError as exc:
        raise ApiError(400, str(exc)) from None
    return [{"service_request_id": req.pk, "token": token_for(req.pk), "service_notice": notice(req),
             "account_id": p.get("account_id") or None}]


# ------------------------------------------------------------------ tokens and media

TOKEN_SALT = "carenet.open311.token"
MEDIA_SALT = "carenet.open311.media"


def token_for(pk: int) -> str:
    """The token a POST returns; GET /tokens/<token> answers with the service_request_id (spec: "GET
    service_request_id from a token"). Signed, so it cannot be guessed from an id."""
    return signing.Signer(salt=TOKEN_SALT).sign(str(pk)).replace(":", "-")


@api_view("service_requests")
def token_lookup(request, token):
    jurisdiction(request)
    try:
        pk = signing.Signer(salt=TOKEN_SALT).unsign(token.replace("-", ":", 1))
    except signing.BadSignature:
        raise ApiError(404, f"token {token} was not found") from None
    if not pk.isdigit() or not m.ServiceRequest.objects.filter(pk=int(pk)).exists():
        raise ApiError(404, f"token {token} was not found")
    return [{"service_request_id": int(pk), "token": token}]


def media_url(request, req: m.ServiceRequest) -> str | None:
    a = req.attachments.order_by("id").first()
    if a is None:
        return None
    sig = signing.Signer(salt=MEDIA_SALT).sign(str(a.pk)).replace(":", "-")
    return request.build_absolute_uri(f"/open311/v2/media/{sig}")


def media(request, sig):
    """The photo behind a media_url (given only to the client that sent the request: documents are personal)."""
    try:
        pk = signing.Signer(salt=MEDIA_SALT).unsign(sig.replace("-", ":", 1))
    except signing.BadSignature:
        raise Http404("media not found") from None
    a = m.Attachment.objects.filter(pk=int(pk) if pk.isdigit() else 0).first()
    if a is None:
        raise Http404("media not found")
    return FileResponse(a.file.open("rb"), content_type=a.content_type or "image/jpeg")


def notice(req: m.ServiceRequest) -> str:
    return f"由{req.routed_to or req.item.department}办理，办理时限{req.item.deadline_days}个工作日，预计{req.due_on}前办结。"


STATUS_NOTES = {
    service.SUBMITTED: "已受理，等待分派", service.ROUTED: "办理中", service.NEED_DOCS: "需补充材料",
    service.DONE: "已办结", service.REFUSED: "不予办理", service.RATED: "已办结并评价", service.WITHDRAWN: "申请人已撤回",
}


def request_json(req: m.ServiceRequest, client: m.ApiClient | None, request=None) -> dict:
    own = client is not None and req.channel == m.Channel.OPEN311 and (
        req.division.path == client.division.path or req.division.path.startswith(client.division.path + "/"))
    names = tuple(n for n in (req.applicant_name,) if n)
    notes = STATUS_NOTES[req.state]
    if req.state == service.NEED_DOCS and req.docs_requested:
        notes += "：" + masking.mask_text(req.docs_requested, names)
    if req.state in (service.DONE, service.REFUSED, service.RATED) and req.outcome:
        notes += "：" + masking.mask_text(req.outcome, names)
    return {
        "service_request_id": req.pk, "status": "open" if req.state in service.OPEN else "closed",
        "status_notes": notes, "service_name": req.item.name, "service_code": req.item.code,
        "description": masking.mask_text(req.description, names) or None,
        "agency_responsible": req.routed_to or req.item.department, "service_notice": notice(req),
        "requested_datetime": w3(req.created), "updated_datetime": w3(req.updated),
        "expected_datetime": w3(req.due_on), "address": req.address if own else req.division.name,
        "address_id": None, "zipcode": None, "lat": req.lat if own else None, "long": req.lon if own else None,
        "media_url": media_url(request, req) if own and request is not None else None,
    }


def _when(value, name):
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name} must be a w3 datetime such as 2010-01-01T00:00:00Z") from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def list_requests(request):
    g = request.GET
    area = jurisdiction(request)
    client = services.client_for_key(g.get("api_key", ""))
    qs = m.ServiceRequest.objects.filter(in_division(area)).select_related("item", "division", "applicant")
    ids = [x.strip() for x in (g.get("service_request_id") or "").split(",") if x.strip()]
    if ids:
        if not all(x.isdigit() for x in ids):
            raise ApiError(400, "service_request_id must be numbers, comma delimited")
        qs = qs.filter(pk__in=ids)
    else:
        codes = [x.strip() for x in (g.get("service_code") or "").split(",") if x.strip()]
        if codes:
            qs = qs.filter(item__code__in=codes)
        end = _when(g["end_date"], "end_date") if g.get("end_date") else timezone.now()
        start = _when(g["start_date"], "start_date") if g.get("start_date") else end - DEFAULT_SPAN
        if end - start > DEFAULT_SPAN:
            raise ApiError(400, "start_date and end_date may not span more than 90 days")
        qs = qs.filter(created__gte=start, created__lte=end)
        statuses = {x.strip() for x in (g.get("status") or "").split(",") if x.strip()}
        if statuses - {"open", "closed"}:
            raise ApiError(400, "status must be open or closed")
        if statuses == {"open"}:
            qs = qs.filter(state__in=service.OPEN)
        elif statuses == {"closed"}:
            qs = qs.exclude(state__in=service.OPEN)
    return [request_json(r, client, request) for r in qs.order_by("-created").prefetch_related("attachments")[:MAX_RESULTS]]


@api_view("service_requests")
def request_detail(request, pk):
    area = jurisdiction(request)
    req = m.ServiceRequest.objects.filter(in_division(area), pk=pk).select_related("item", "division", "applicant").first()
    if req is None:
        raise ApiError(404, f"service_request_id {pk} was not found")
    return [request_json(req, services.client_for_key(request.GET.get("api_key", "")), request)]


def discovery(request):
    base = request.build_absolute_uri("/open311/v2/")
    return JsonResponse({"changeset": "2026-11-29T00:00:00Z", "contact": "区民政局 便民服务",
                         "key_service": "向区民政局申请 api_key（manage.py civic_api_client）",
                         "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                                        "changeset": "2026-11-29T00:00:00Z", "type": "production",
                                        "formats": ["application/json", "text/xml"]}]},
                        json_dumps_params={"ensure_ascii": False})

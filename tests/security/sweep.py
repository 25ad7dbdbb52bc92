"""Every URL pattern of the project, read from the URL resolver, with the objects to fill its ids.

A new page is swept without anyone remembering it: a pattern without an object id is covered as it is; a
pattern with one must name, in OBJECTS below, how to make an object of it in *another* area, or say in
NOT_AREA_SCOPED why it has none. An unclassified pattern fails tests/security/test_url_sweep.py, with the
pattern in the message.
"""
from __future__ import annotations

import datetime as dt
import re

from django.urls import URLResolver, get_resolver
from django.utils import timezone

# Open without login, on purpose. Keep this list small; every entry says why.
PUBLIC = {
    "login/": "the login page",
    "logout/": "logging out",
    "i18n/setlang/": "the language switch (also on the public policy page)",
    "healthz": "the load balancer's probe (no data)",
    "favicon.ico": "an icon",
    "policy/": "the public policy Q&A page (政策问答, published answers only)",
    "policy/article/<str:article_id>/": "public law articles",
    "policy/api/search": "the public policy search",
    "api/": "django-ninja's API root: it serves nothing (404 for everyone)",
    "civic/home/": "residents' own pages: their access code (HomeAccess), not a staff session; scoped to the resident",
    "civic/home/login/": "residents' own login (access code)",
    "civic/home/logout/": "residents' own logout",
    "civic/home/items/": "residents' own pages (the public service catalogue)",
    "civic/home/apply/<str:code>/": "residents' own pages: apply for a catalogue item by its code",
    "civic/home/requests/<int:pk>/": "residents' own pages: only the resident's own requests (404 otherwise, tested in civic)",
    "civic/public/": "the public 晒单 board: published community requests only",
    "civic/public/<int:pk>/": "the public 晒单 board: published community requests only (404 otherwise)",
    # Open311 (GeoReport v2) for city systems: an API key per client system, not a staff session (tested in civic).
    "open311/discovery.json": "Open311 discovery document (no data)",
    r"open311/^v2/services\.(?P<fmt>\w+)$": "Open311 service list (the public catalogue)",
    r"open311/^v2/services/(?P<code>[\w-]+)\.(?P<fmt>\w+)$": "Open311 service definition (the public catalogue)",
    r"open311/^v2/requests\.(?P<fmt>\w+)$": "Open311 requests: API key of a client system, scoped to its division",
    r"open311/^v2/requests/(?P<pk>\d+)\.(?P<fmt>\w+)$": "Open311 request: API key of a client system, scoped to its division",
    r"open311/^v2/tokens/(?P<token>[\w-]+)\.(?P<fmt>json|xml)$": "Open311 token lookup: a signed token gives only "
                                                                   "the service_request_id (tested in civic)",
    r"open311/^v2/media/(?P<sig>[\w-]+)$": "Open311 media_url: a signed capability URL given only to the sending "
                                            "client (tested in civic)",
    "civic/confirm/<str:token>/": "the resident's own 落单 confirmation: a signed private link, no staff session "
                                  "(tested in civic)",
    "civic/home/confirm/<int:pk>/": "residents' own pages: only the reporter signed in on the home page (404 otherwise)",
    "api/devices/events": "devices post with a vendor token, not a staff session (tested in devices)",
}
# Any signed-in staff member, whatever the role.
LOGIN_ONLY = {
    "": "the home page (each role sees its own area's figures)",
    "policy/staff/": "regulation search for all staff",
    "api/docs": "API reference (login required, vendored assets)",
    "api/openapi.json": "the API schema (login required)",
}
# Landed minutes before the deadline of issue 9: no object provider yet, so they are only in the anonymous and
# no-capability sweeps (which need no object). TODO: add providers and remove them from here.
PENDING = {
}
# Patterns with an id whose objects belong to no area: the capability is the whole check.
NOT_AREA_SCOPED = {
    "imports/<str:key>/": "no object: the importer's upload page (capability-checked)",
    "imports/<str:key>/template.xlsx": "no object: the importer's template (capability-checked)",
    "civic/catalogue/<int:pk>/": "the district's service catalogue, edited by civic.catalogue holders",
    "policy/qa/<int:pk>/edit/": "Q&A pairs are district-wide content, edited by policy.edit holders",
    "policy/qa/<int:pk>/publish/": "Q&A pairs are district-wide content, published by policy.publish holders",
    "homecare/service-types/<int:pk>/": "the district's service catalogue, edited by homecare.manage holders",
    "homecare/settlement/<int:pk>/": "a month's settlement run is district-wide; its lines are filtered to the user's area "
                                     "(tests/homecare: statement_lines)",
    "homecare/settlement/<int:pk>/statement.xlsx": "a district-wide run; the statement's lines are filtered to the user's area",
    "homecare/meals/settlement/<int:pk>/": "a month's meal settlement run is district-wide; its lines are filtered to the "
                                          "user's area",
}

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>")


def all_patterns() -> list[str]:
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)
    return sorted(set(walk(get_resolver().url_patterns)))


def params(route: str) -> list[str]:
    """Path converters (<int:pk>) and regex groups ((?P<pk>...)) alike."""
    if _REGEX_GROUP.search(route):
        return _REGEX_GROUP.findall(route)
    return [m.group(2) for m in _PARAM.finditer(route)]


def fill(route: str, values: dict) -> str:
    return "/" + _PARAM.sub(lambda m: str(values[m.group(2)]), route)


class Foreign:
    """Objects in street 2 (community C), out of reach of anyone whose area is street 1."""

    def __init__(self, area):
        from carenet.assistance import models as am
        from carenet.core.roles import Role
        from carenet.policy.models import QAPair
        from tests.callcenter.conftest import make_alarm
        from tests.factories import ResidentFactory, UserFactory

        self.area = area
        self.user = UserFactory(username="sweep_c", role=Role.WORKER, division=area.comm_c)
        self.elder = area.elder_c
        self.alarm = make_alarm(area.elder_c)
        applicant = ResidentFactory(division=area.comm_c, name="丙申请人", birth_date=dt.date(1970, 1, 1))
        self.case = am.Case.objects.create(**_case_fields(am, applicant, area.comm_c, self.user))
        self.photo = am.Photo.objects.create(case=self.case, file="assistance/x.jpg", content_type="image/jpeg",
                                             uploaded_by=self.user)
        self.report = am.GridReport.objects.create(reporter=self.user, resident=applicant, division=area.comm_c,
                                                   route="dibao_urban", description="x")
        self.run = am.PayrollRun.objects.create(run_month=dt.date(2026, 1, 1), area=area.street2,
                                                started_by=self.user, status=am.PayrollRun.Status.DONE,
                                                finished=timezone.now())
        from carenet.core.models import ImportRun, ImportUpload
        from carenet.people.models import ImportBatch

        self.batch = ImportBatch.objects.create(user=self.user, filename="x.xlsx", report=b"x")

        self.import_run = ImportRun.objects.create(importer="people.elders", user=self.user, filename="x.xlsx",
                                                   report=b"x")
        self.import_upload = ImportUpload.objects.create(importer="people.elders", user=self.user, filename="x.xlsx",
                                                         data_enc=b"x")
        self.qa = QAPair.objects.create(question="x", answer="x")
        from carenet.civic import models as cm

        item = cm.ServiceItem.objects.create(code="SWEEP1", name="x", category="x", department="x")
        self.civic_request = cm.ServiceRequest.objects.create(item=item, applicant=area.elder_c.resident,
                                                              division=area.comm_c, created_by=self.user)
        self.civic_photo = cm.Attachment.objects.create(request=self.civic_request, file="civic/x.jpg",
                                                        content_type="image/jpeg")
        self.community = cm.CommunityRequest.objects.create(division=area.comm_c, category=cm.Category.values[0],
                                                            title="x", description="x", created_by=self.user)
        self.wish = cm.Wish.objects.create(division=area.comm_c, title="x", created_by=self.user)
        from carenet.facilities import models as fm

        self.facility = fm.Facility.objects.create(code="SWEEP-F1", name="x", type=fm.FacilityType.values[0],
                                                   division=area.comm_c)
        self.facility_change = fm.FacilityChange.objects.create(division=area.comm_c, kind="update",
                                                                proposed_by=self.user)
        inspection = fm.Inspection.objects.create(facility=self.facility, kind=fm.Inspection.Kind.values[0],
                                                  inspected_on=dt.date(2026, 1, 5), inspector=self.user)
        self.finding = fm.Finding.objects.create(inspection=inspection, facility=self.facility, description="x",
                                                 severity=fm.Finding.Severity.values[0])
        self.facility_photo = fm.Photo.objects.create(finding=self.finding, file="facilities/x.jpg",
                                                      content_type="image/jpeg", uploaded_by=self.user)
        self.facility_stay = fm.FacilityResident.objects.create(facility=self.facility, elder=self.elder,
                                                                admitted=dt.date(2026, 1, 5))
        self.facility_staff = fm.Staff.objects.create(facility=self.facility, name="x", role="nurse")
        self.complaint = fm.Complaint.objects.create(facility=self.facility, received_on=dt.date(2026, 1, 5), summary="x")
        from carenet.matching import models as mm

        self.source = mm.Source.objects.create(name="x", kind=mm.Kind.DEATHS, department="x", division=area.street2,
                                               created_by=self.user)
        self.load = mm.Load.objects.create(source=self.source, version=1, file_name="x.csv", sha256="0" * 64,
                                           division=area.street2, loaded_by=self.user)
        self.matching_finding = mm.Finding.objects.create(rule="paid_after_death", resident=applicant,
                                                          division=area.comm_c, summary="x")
        self.alert = mm.RiskAlert.objects.create(resident=applicant, division=area.comm_c, score=50,
                                                 rules_from=dt.date(2024, 1, 1), deadline=dt.date(2026, 1, 10))
        screen_run = mm.ScreenRun.objects.create(screen="all_disabled", division=area.street2, run_by=self.user)
        self.discovery = mm.Discovery.objects.create(run=screen_run, screen="all_disabled", resident=applicant,
                                                     division=area.comm_c, deadline=dt.date(2026, 1, 20))
        self.source_upload = ImportUpload.objects.create(importer=f"matching.s{self.source.pk}", user=self.user,
                                                         filename="x.csv", data_enc=b"x")
        from carenet.monitoring.models import AwayRecord

        self.away = AwayRecord.objects.create(elder=self.elder, starts_at=timezone.now(),
                                              expected_return=timezone.now() + dt.timedelta(days=1),
                                              reason=AwayRecord.Reason.values[0], reporter=AwayRecord.Reporter.values[0],
                                              recorded_by=self.user)
        self._homecare(area)

    def _homecare(self, area):
        from decimal import Decimal

        from carenet.homecare import models as hm

        st = hm.ServiceType.objects.create(code="sweep", name="x", price=Decimal("10"))
        self.hc_provider = hm.Provider.objects.create(name="x", division=area.street2, contract_start=dt.date(2024, 1, 1),
                                                      contract_end=dt.date(2030, 1, 1))
        self.hc_helper = hm.Helper.objects.create(provider=self.hc_provider, name="x", division=area.comm_c)
        self.hc_order = hm.Order.objects.create(elder=self.elder, division=area.comm_c, service_type=st, state="assigned",
                                                provider=self.hc_provider, helper=self.hc_helper, channel="call",
                                                scheduled_at=timezone.now(), price=Decimal("10"), subsidy=Decimal("10"))
        self.hc_photo = hm.VisitPhoto.objects.create(order=self.hc_order, stage="check_in", file="homecare/x.jpg",
                                                     content_type="image/jpeg", uploaded_by=self.user)
        self.hc_anomaly = hm.Anomaly.objects.create(order=self.hc_order, division=area.comm_c, kind="short_visit",
                                                    detail="x")
        self.hc_service_type = st
        self.hc_run = hm.SettlementRun.objects.create(month=dt.date(2026, 1, 1), status="done")
        self.hc_meal_run = hm.MealSettlementRun.objects.create(month=dt.date(2026, 1, 1))
        self.hc_plan = hm.VisitPlan.objects.create(elder=self.elder, division=area.comm_c, period="week", days=7,
                                                   rules="x", start=dt.date(2026, 1, 1), next_due=dt.date(2026, 1, 8))


def _case_fields(am, applicant, division, user) -> dict:
    return {"applicant": applicant, "division": division, "program": "dibao_urban", "household": applicant.household,
            "created_by": user, "person_ids": [str(applicant.pk)]}


# For each pattern with an id: the values that point at an object of another area.
OBJECTS = {
    "users/<int:pk>/": lambda o: {"pk": o.user.pk},
    "users/<int:pk>/unlock/": lambda o: {"pk": o.user.pk},
    "people/elders/import/<int:pk>/rejected.xlsx": lambda o: {"pk": o.batch.pk},
    # Another user's import (uploads and runs are the uploader's own, whatever the area).
    "imports/runs/<int:pk>/rejected.xlsx": lambda o: {"pk": o.import_run.pk},
    "imports/<str:key>/<int:pk>/": lambda o: {"key": "people.elders", "pk": o.import_upload.pk},
    "imports/<str:key>/<int:pk>/mapping/": lambda o: {"key": "people.elders", "pk": o.import_upload.pk},
    "imports/<str:key>/<int:pk>/confirm/": lambda o: {"key": "people.elders", "pk": o.import_upload.pk},
    "imports/<str:key>/<int:pk>/discard/": lambda o: {"key": "people.elders", "pk": o.import_upload.pk},
    "imports/<str:key>/runs/<int:pk>/": lambda o: {"key": "people.elders", "pk": o.import_run.pk},
    # Pages with a parameter that names no object: the importer's key.
    "imports/<str:key>/": lambda o: {"key": "people.elders"},
    "imports/<str:key>/template.xlsx": lambda o: {"key": "people.elders"},
    "people/elders/<int:pk>/": lambda o: {"pk": o.elder.pk},
    "people/elders/<int:pk>/edit/": lambda o: {"pk": o.elder.pk},
    "people/elders/<int:pk>/reveal-id/": lambda o: {"pk": o.elder.pk},
    "monitoring/elders/<int:pk>/rules/": lambda o: {"pk": o.elder.pk},
    "monitoring/elders/<int:pk>/devices/new/": lambda o: {"pk": o.elder.pk},
    "monitoring/elders/<int:pk>/away/": lambda o: {"pk": o.elder.pk},
    "monitoring/elders/<int:pk>/away/<int:record>/end/": lambda o: {"pk": o.elder.pk, "record": o.away.pk},
    "callcenter/alarms/<int:pk>/": lambda o: {"pk": o.alarm.pk},
    "callcenter/alarms/<int:pk>/claim/": lambda o: {"pk": o.alarm.pk},
    "callcenter/alarms/<int:pk>/<slug:action>/": lambda o: {"pk": o.alarm.pk, "action": "close"},
    "assistance/cases/<int:pk>/": lambda o: {"pk": o.case.pk},
    "assistance/cases/<int:pk>/<slug:action>/": lambda o: {"pk": o.case.pk, "action": "survey"},
    "assistance/photos/<int:pk>/": lambda o: {"pk": o.photo.pk},
    "assistance/cases/<int:pk>/print/": lambda o: {"pk": o.case.pk},
    "assistance/payroll/<int:pk>/print/": lambda o: {"pk": o.run.pk},
    "assistance/reports/<int:pk>/<slug:action>/": lambda o: {"pk": o.report.pk, "action": "dismiss"},
    "assistance/payroll/<int:pk>/": lambda o: {"pk": o.run.pk},
    "assistance/payroll/<int:pk>/resume/": lambda o: {"pk": o.run.pk},
    "assistance/payroll/<int:pk>/bank.<str:fmt>": lambda o: {"pk": o.run.pk, "fmt": "csv"},
    "api/people/elders/<elder_id>": lambda o: {"elder_id": o.elder.pk},
    "facilities/changes/<int:pk>/decide/": lambda o: {"pk": o.facility_change.pk},
    "facilities/<int:pk>/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/admit/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/staff/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/edit/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/status/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/evaluate/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/inspect/": lambda o: {"pk": o.facility.pk},
    "facilities/<int:pk>/console/": lambda o: {"pk": o.facility.pk},
    "facilities/findings/<int:pk>/": lambda o: {"pk": o.finding.pk},
    "facilities/photos/<int:pk>/": lambda o: {"pk": o.facility_photo.pk},
    "supervision/facilities/<int:pk>/": lambda o: {"pk": o.facility.pk},
    "facilities/stays/<int:pk>/discharge/": lambda o: {"pk": o.facility_stay.pk},
    "facilities/staff/<int:pk>/edit/": lambda o: {"pk": o.facility_staff.pk},
    "facilities/complaints/<int:pk>/": lambda o: {"pk": o.complaint.pk},
    "facilities/complaints/<int:pk>/step/": lambda o: {"pk": o.complaint.pk},
    "civic/requests/<int:pk>/": lambda o: {"pk": o.civic_request.pk},
    "civic/requests/<int:pk>/<slug:action>/": lambda o: {"pk": o.civic_request.pk, "action": "accept"},
    "civic/photos/<int:pk>/": lambda o: {"pk": o.civic_photo.pk},
    "civic/catalogue/<int:pk>/": lambda o: {"pk": o.civic_request.item.pk},
    "civic/community/<int:pk>/": lambda o: {"pk": o.community.pk},
    "civic/community/<int:pk>/answer/": lambda o: {"pk": o.community.pk},
    "civic/community/<int:pk>/<slug:action>/": lambda o: {"pk": o.community.pk, "action": "accept"},
    "civic/wishes/<int:pk>/<slug:action>/": lambda o: {"pk": o.wish.pk, "action": "claim"},
    "policy/qa/<int:pk>/edit/": lambda o: {"pk": o.qa.pk},
    "policy/qa/<int:pk>/publish/": lambda o: {"pk": o.qa.pk},
    "policy/article/<str:article_id>/": lambda o: {"article_id": "x"},
    "homecare/orders/<int:pk>/": lambda o: {"pk": o.hc_order.pk},
    "homecare/orders/<int:pk>/<slug:action>/": lambda o: {"pk": o.hc_order.pk, "action": "cancel"},
    "homecare/m/<int:pk>/": lambda o: {"pk": o.hc_order.pk},
    "homecare/m/<int:pk>/act/": lambda o: {"pk": o.hc_order.pk},
    "homecare/photos/<int:pk>/": lambda o: {"pk": o.hc_photo.pk},
    "homecare/anomalies/<int:pk>/decide/": lambda o: {"pk": o.hc_anomaly.pk},
    "homecare/visits/<int:pk>/": lambda o: {"pk": o.hc_plan.pk},
    "homecare/providers/<int:pk>/": lambda o: {"pk": o.hc_provider.pk},
    "homecare/helpers/<int:pk>/": lambda o: {"pk": o.hc_helper.pk},
    # district-wide (NOT_AREA_SCOPED): the catalogue and the months' settlement runs
    "homecare/service-types/<int:pk>/": lambda o: {"pk": o.hc_service_type.pk},
    "homecare/settlement/<int:pk>/": lambda o: {"pk": o.hc_run.pk},
    "homecare/settlement/<int:pk>/statement.xlsx": lambda o: {"pk": o.hc_run.pk},
    "homecare/meals/settlement/<int:pk>/": lambda o: {"pk": o.hc_meal_run.pk},
    "matching/findings/<int:pk>/": lambda o: {"pk": o.matching_finding.pk},
    "matching/loads/<int:pk>/": lambda o: {"pk": o.load.pk},
    "matching/sources/<int:pk>/mapping/<int:upload>/": lambda o: {"pk": o.source.pk, "upload": o.source_upload.pk},
    "matching/risk/<int:pk>/": lambda o: {"pk": o.alert.pk},
    "matching/screens/<int:pk>/": lambda o: {"pk": o.discovery.pk},
}


def concrete_urls(area, foreign: Foreign | None = None) -> list[tuple[str, bool]]:
    """(url, has_object_id) for every pattern; patterns with an id are filled with another area's objects."""
    out = []
    for route in all_patterns():
        if route in PUBLIC:
            continue
        if not params(route):
            out.append((fill(route, {}), False))
        elif route in OBJECTS:
            foreign = foreign or Foreign(area)
            out.append((fill(route, OBJECTS[route](foreign)), True))
    return out

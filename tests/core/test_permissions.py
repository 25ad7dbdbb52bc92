"""The one permission vocabulary: require, require_in_area, needs, and ScopedQuerySet.visible_to."""
import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from carenet.core.models import AuditLog
from carenet.core.permissions import Denied, needs, require, require_in_area
from carenet.people.models import ElderProfile, Resident


def _denials():
    return AuditLog.objects.filter(action=AuditLog.Action.DENIED)


def test_require_refuses_and_audits_outside_a_transaction(area):
    with pytest.raises(Denied):
        require(area.helper, "people.edit")
    assert _denials().filter(actor=area.helper, note="missing capability people.edit").count() == 1


def test_denial_row_survives_the_rollback_of_the_refused_write(area, rf=RequestFactory()):
    @needs("people.view")
    def view(request):
        with transaction.atomic():
            Resident.objects.filter(pk=area.elder_a.resident.pk).update(name="改名")
            require(request.user, "users.manage")  # refused inside the write's transaction
        return HttpResponse("ok")

    request = rf.get("/x")
    request.user = area.worker_a
    with pytest.raises(Denied):
        view(request)
    area.elder_a.resident.refresh_from_db()
    assert area.elder_a.resident.name == "甲老人"          # the write rolled back
    assert _denials().filter(actor=area.worker_a, note="missing capability users.manage").count() == 1


def test_needs_requires_login(rf=RequestFactory()):
    from django.contrib.auth.models import AnonymousUser

    @needs("people.view")
    def view(request):
        return HttpResponse("ok")

    request = rf.get("/x")
    request.user = AnonymousUser()
    assert view(request).status_code == 302


def test_require_in_area(area):
    require_in_area(area.worker_a, area.comm_a)
    require_in_area(area.reviewer, area.comm_b.path)
    with pytest.raises(Denied):
        require_in_area(area.worker_a, area.comm_c)
    assert _denials().filter(actor=area.worker_a, division_path=area.comm_c.path).count() == 1


def test_visible_to_on_the_queryset(area):
    names = lambda qs: sorted(e.resident.name for e in qs)  # noqa: E731
    assert names(ElderProfile.objects.visible_to(area.worker_a)) == ["甲老人"]
    assert names(ElderProfile.objects.visible_to(area.reviewer)) == ["乙老人", "甲老人"]
    assert names(ElderProfile.objects.visible_to(area.admin)) == ["丙老人", "乙老人", "甲老人"]
    assert Resident.objects.visible_to(area.worker_b).get().name == "乙老人"

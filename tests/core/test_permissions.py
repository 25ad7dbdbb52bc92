"""The one permission vocabulary: require, require_in_area, needs, and ScopedQuerySet.visible_to."""
import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

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


def test_a_refusal_the_view_caught_is_still_audited_after_the_rollback(area, login):
    """The call center shows a refused note as a message (no 403); the DENIED row is written anyway."""
    from tests.factories import AlarmFactory

    alarm = AlarmFactory(elder=area.elder_a)
    client = login(area.helper)  # sees the alarm's area, lacks callcenter.console: refused inside add_note's transaction
    response = client.post(reverse("callcenter:action", args=[alarm.pk, "note"]), {"text": "x"})
    assert response.status_code == 302  # shown as a message, not a 403
    assert _denials().filter(actor=area.helper, note="missing capability callcenter.console").count() == 1


def test_every_scoped_model_declares_a_valid_scope_path(area):
    """A model with `objects = ScopedManager()` must name a path that reaches a division path."""
    from django.apps import apps

    from carenet.core.scoping import ScopedQuerySet

    scoped = [m for m in apps.get_models() if isinstance(m._default_manager.all(), ScopedQuerySet)]
    assert len(scoped) >= 10
    for model in scoped:
        assert isinstance(getattr(model, "scope_path", None), str), model
        list(model.objects.visible_to(area.worker_a)[:1])  # the lookup resolves

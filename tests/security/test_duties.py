"""Issue 9 §5: duties stay separated where money or lives are at stake."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from carenet.assistance import selectors, services
from carenet.assistance.engine import workflow as ewf
from carenet.callcenter import services as cc
from carenet.monitoring.models import Alarm
from tests.assistance.test_django_payroll import aa, clock  # noqa: F401 (fixtures)
from tests.callcenter.conftest import make_alarm

pytestmark = pytest.mark.django_db

FIRE = {"temp_aid": {"aid_type": "emergency"}}


def _small_temp_aid(aa, user):
    return services.intake(user, program="temp_aid", applicant=aa.applicant, reason="突发火灾", facts=FIRE,
                           requested_amount="800")


def test_one_reviewer_cannot_pay_first_aid_and_then_review(aa, clock):  # noqa: F811
    clock.set(dt.date(2026, 6, 10))
    reviewer = aa.reviewer
    case = _small_temp_aid(aa, reviewer)
    case = services.pay_first_aid(reviewer, case, opinion="急难")          # 800 yuan paid: a decision
    case = services.record_survey(reviewer, case, visited_on=services.today(), visitors="甲、乙", notes="x", facts=FIRE)
    assert "review" not in selectors.allowed_actions(reviewer, case)
    with pytest.raises(ewf.SeparationOfDutiesError):
        services.review(reviewer, case, recommend=True, opinion="同意")
    case.refresh_from_db()
    assert case.state == ewf.SURVEYED


def test_a_reviewer_who_reviewed_cannot_pay_first_aid(aa, clock):  # noqa: F811
    clock.set(dt.date(2026, 6, 10))
    case = _small_temp_aid(aa, aa.worker_a)
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="x", facts=FIRE)
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    assert "first_aid" not in selectors.allowed_actions(aa.reviewer, case)
    with pytest.raises(ewf.SeparationOfDutiesError):
        services.pay_first_aid(aa.reviewer, case)
    assert services.pay_first_aid(aa.approver, case).entitlement.monthly_amount == 800


def test_the_http_form_refuses_it_too(aa, clock, client):  # noqa: F811
    clock.set(dt.date(2026, 6, 10))
    case = _small_temp_aid(aa, aa.reviewer)
    client.force_login(aa.reviewer)
    client.post(reverse("assistance:action", args=[case.pk, "first_aid"]), {"opinion": "急难"})
    services.record_survey(aa.reviewer, case, visited_on=services.today(), visitors="甲、乙", notes="x", facts=FIRE)
    r = client.post(reverse("assistance:action", args=[case.pk, "review"]), {"recommend": "yes", "opinion": "同意"})
    case.refresh_from_db()
    assert case.state == ewf.SURVEYED and r.status_code in (200, 302, 400, 409)


# ---------------------------------------------------------------- closing an SOS or a fall

@pytest.mark.parametrize("type_", ["sos", "fall"])
def test_an_sos_or_fall_cannot_be_closed_without_a_verification_call(area, type_):
    alarm = make_alarm(area.elder_a, type_)
    cc.claim(area.operator, alarm.pk)
    with pytest.raises(ValidationError):
        cc.close(area.operator, alarm.pk, "elder_fine")
    cc.log_call(area.operator, alarm.pk, "elder", "no_answer")   # a call that reached nobody does not verify
    with pytest.raises(ValidationError):
        cc.close(area.operator, alarm.pk, "elder_fine")
    alarm.refresh_from_db()
    assert alarm.is_active


def test_a_reached_call_verifies_and_the_close_is_not_flagged(area, client):
    alarm = make_alarm(area.elder_a, "sos")
    cc.claim(area.operator, alarm.pk)
    cc.log_call(area.operator, alarm.pk, "elder", "fine")
    cc.close(area.operator, alarm.pk, "elder_fine")
    client.force_login(area.operator)
    page = client.get(reverse("callcenter:kpis")).content.decode()
    assert 'data-testid="kpi-unverified-count">0<' in page


def test_a_written_exception_closes_it_and_is_flagged_on_the_kpi_page(area, client):
    alarm = make_alarm(area.elder_a, "fall")
    cc.claim(area.operator, alarm.pk)
    with pytest.raises(ValidationError):
        cc.close(area.operator, alarm.pk, "false_alarm", unverified_reason=" ")
    cc.close(area.operator, alarm.pk, "false_alarm", unverified_reason="设备误报，家属现场确认")
    alarm.refresh_from_db()
    assert alarm.status == Alarm.Status.RESOLVED
    assert alarm.transitions.get(to_status="resolved").data["unverified"] is True
    client.force_login(area.operator)
    page = client.get(reverse("callcenter:kpis")).content.decode()
    assert 'data-testid="kpi-unverified-count">1<' in page and "设备误报，家属现场确认" in page
    # the close form of an unverified SOS asks for the reason
    other = make_alarm(area.elder_a, "sos")
    cc.claim(area.operator, other.pk)
    assert 'name="unverified_reason"' in client.get(reverse("callcenter:alarm", args=[other.pk])).content.decode()


def test_other_alarms_close_without_a_call(area):
    alarm = make_alarm(area.elder_a, "inactivity", severity="high")
    cc.claim(area.operator, alarm.pk)
    assert cc.close(area.operator, alarm.pk, "elder_fine").status == Alarm.Status.RESOLVED

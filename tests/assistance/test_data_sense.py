"""#18 data that makes sense: no duplicate open application, a referral's deadline never before its own date,
an expired 公示 not listed as current, an overdue 下次复核 flagged red (lists, case page, to-do list)."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from carenet.assistance import models as m
from carenet.assistance import services, todo
from carenet.assistance.engine import workflow as ewf
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

POOR = {"incomes": [{"type": "wage", "amount": "300.00"}], "assets": {"deposits": "1000"}}


@pytest.fixture
def aa(area):
    services.seed_default_standards(area.district)
    area.applicant = ResidentFactory(division=area.comm_a, name="王小明", birth_date=dt.date(1970, 5, 1))
    return area


def _intake(aa, program="dibao_urban", who=None):
    return services.intake(aa.worker_a, program=program, applicant=who or aa.applicant, reason="x", facts=POOR)


def test_a_second_open_application_for_the_same_person_and_program_is_refused(aa):
    first = _intake(aa)
    with pytest.raises(services.AssistanceError) as err:
        _intake(aa)
    assert first.number in str(err.value) and m.Case.objects.count() == 1
    _intake(aa, program="temp_aid")                      # another program is another application
    m.Case.objects.filter(pk=first.pk).update(state=ewf.REJECTED)
    _intake(aa)                                           # after a decision, a new application is fine
    assert m.Case.objects.count() == 3


def test_the_page_shows_the_refusal(aa, client):
    _intake(aa)
    client.force_login(aa.worker_a)
    r = client.post(reverse("assistance:case_new"), {"program": "dibao_urban", "channel": "window",
                                                     "id_number": aa.applicant.id_number, "reason": "again"})
    assert r.status_code == 200 and "重复申请" in r.content.decode() and m.Case.objects.count() == 1


def test_a_referral_answer_deadline_is_never_before_its_own_date(aa, monkeypatch):
    past = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))
    monkeypatch.setattr(services.adapter, "now", lambda: past)
    monkeypatch.setattr(services.adapter, "today", lambda: past.date())
    ref = services.refer(aa.worker_a, resident=aa.applicant, department="medical", need="大病")
    ref.refresh_from_db()
    assert timezone.localdate(ref.created) == past.date() and ref.due_on > past.date()


def test_an_expired_public_notice_is_not_listed_as_current(aa, client):
    other = ResidentFactory(division=aa.comm_a, name="李四海", birth_date=dt.date(1960, 1, 1))
    today = services.today()
    running, expired = _intake(aa), _intake(aa, who=other)
    m.Case.objects.filter(pk=running.pk).update(state=ewf.IN_NOTICE, notice_started_on=today,
                                                notice_ends_on=today + dt.timedelta(days=5))
    m.Case.objects.filter(pk=expired.pk).update(state=ewf.IN_NOTICE, notice_started_on=today - dt.timedelta(days=20),
                                                notice_ends_on=today - dt.timedelta(days=10))
    client.force_login(aa.reviewer)
    page = client.get(reverse("assistance:notice")).content.decode()
    body = page.split('data-testid="notice-table"')[1].split("</table>")[0]
    assert body.count("<tr>") == 2   # the header and the running notice only
    assert "王" in body and "李" not in body


def test_an_overdue_recheck_is_flagged_in_the_list_the_case_and_the_todo_list(aa, client):
    case = _intake(aa)
    today = services.today()
    m.Case.objects.filter(pk=case.pk).update(state=ewf.PAYING, next_recheck_on=today - dt.timedelta(days=3))
    client.force_login(aa.reviewer)
    assert 'data-testid="recheck-overdue"' in client.get(reverse("assistance:cases")).content.decode()
    assert 'data-testid="recheck-overdue"' in client.get(reverse("assistance:case", args=[case.pk])).content.decode()
    items = [i for i in todo.items_for(aa.reviewer) if "复核逾期" in str(i.title)]
    assert len(items) == 1 and items[0].overdue
    m.Case.objects.filter(pk=case.pk).update(next_recheck_on=today + dt.timedelta(days=30))
    assert 'data-testid="recheck-overdue"' not in client.get(reverse("assistance:cases")).content.decode()
    assert not [i for i in todo.items_for(aa.reviewer) if "复核逾期" in str(i.title)]


def test_each_case_page_says_what_the_step_is_and_what_comes_next(aa, client):
    case = _intake(aa)
    client.force_login(aa.reviewer)
    page = client.get(reverse("assistance:case", args=[case.pk])).content.decode()
    assert 'data-testid="state-help"' in page and "下一步：社区两名工作人员入户调查" in page
    assert set(m.STATE_HELP) == set(m.State.values)

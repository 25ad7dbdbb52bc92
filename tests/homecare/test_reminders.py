"""The scheduled pass (manage.py homecare_tick): visit plans, escalation, recurring orders and SMS reminders through
the call center's notification backend, idempotent."""
import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from carenet.homecare import models as m
from carenet.homecare import reminders, services

pytestmark = pytest.mark.django_db


class FakeSms:
    def __init__(self, fail=False):
        self.sent, self.fail = [], fail

    def __call__(self, name, phone, text):
        self.sent.append((name, phone, text))
        return (not self.fail, "gateway down" if self.fail else "")


def test_tick_generates_plans_escalates_and_reminds_once(hc):
    area = hc.area
    area.worker_a.phone, area.reviewer.phone = "13800000001", "13800000002"
    area.worker_a.save()
    area.reviewer.save()
    hc.helper.phone = "13900000009"
    hc.helper.save()
    today = timezone.localdate()
    sms = FakeSms()
    out = reminders.tick(sms, "test", today=today)
    plan = m.VisitPlan.objects.get(elder=area.elder_a)  # living alone: weekly
    assert out["visit_plans"] >= 3 and plan.days == 7 and plan.next_due == today
    assert [s[1] for s in sms.sent] == ["13800000001"] and "1 位老人探访到期" in sms.sent[0][2]
    # the same day again: nothing new (plans in place, reminder already claimed)
    assert reminders.tick(sms, "test", today=today) == {"visit_plans": 0, "escalated": 0, "plan_orders": 0, "reminders": 0}
    assert len(sms.sent) == 1
    # nine days later, never visited: escalated to the street; the worker and the street reviewer are told
    later = today + dt.timedelta(days=9)
    out = reminders.tick(sms, "test", today=later)
    plan.refresh_from_db()
    assert plan.escalated_to == "street" and out["escalated"] >= 1
    texts = {p: t for _n, p, t in sms.sent[1:]}
    assert "已逾期" in texts["13800000001"] and "上报街道" in texts["13800000002"]
    assert m.Reminder.objects.filter(kind="visit_overdue", address="13800000002", due=later).count() == 1


def test_due_orders_remind_the_helper_once_and_failures_are_kept(hc):
    hc.helper.phone = "13900000009"
    hc.helper.save()
    soon = timezone.now() + dt.timedelta(minutes=20)
    o = services.create_order(hc.area.operator, elder=hc.area.elder_a, service_type=hc.bath, scheduled_at=soon, channel="call")
    services.create_order(hc.area.operator, elder=hc.area.elder_a, service_type=hc.bath,
                          scheduled_at=timezone.now() + dt.timedelta(days=3), channel="call")  # not due yet
    sms = FakeSms(fail=True)
    assert reminders.remind_orders(sms, "test") == 0
    r = m.Reminder.objects.get(kind="order_due", object_id=o.pk)
    assert not r.ok and r.error == "gateway down" and f"订单{o.pk}" in r.text and "甲老人" not in r.text
    assert reminders.remind_orders(sms, "test") == 0 and len(sms.sent) == 1  # claimed: not sent twice


def test_the_command_sends_through_the_call_center_backend(hc, settings):
    hc.area.worker_a.phone = "13800000001"
    hc.area.worker_a.save()
    settings.CARENET_NOTIFY_BACKEND = "log"
    buf = StringIO()
    call_command("homecare_tick", stdout=buf)
    assert "reminders 1" in buf.getvalue()
    assert m.Reminder.objects.get(address="13800000001").backend == "log"

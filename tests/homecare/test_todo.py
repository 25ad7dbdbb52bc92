"""Home-care work on the home page's to-do list (core.todo), each item only for the role that does that work
and only within the user's area."""
import datetime as dt

import pytest
from django.utils import timezone

from carenet.core import todo
from carenet.homecare import models as m
from carenet.homecare import services
from carenet.homecare.engine import orders as eo

pytestmark = pytest.mark.django_db


def titles(user):
    return {i.title: i for i in todo.items_for(user)}


def test_each_role_sees_its_own_home_care_work(hc, client):
    area = hc.area
    late = services.create_order(area.operator, elder=area.elder_a, service_type=hc.bath, scheduled_at=hc.soon, channel="call")
    m.Order.objects.filter(pk=late.pk).update(scheduled_at=timezone.now() - dt.timedelta(hours=5))
    today = timezone.localdate()
    m.VisitPlan.objects.create(elder=area.elder_a, division=area.comm_a, period="week", days=7, rules="空巢独居",
                               start=today - dt.timedelta(days=30), next_due=today - dt.timedelta(days=3))
    m.Anomaly.objects.create(order=late, kind=m.Anomaly.Kind.choices[0][0], detail="测试", division=area.comm_a)

    operator = titles(area.operator)
    assert operator["已超期的服务订单"].count == 1 and operator["已超期的服务订单"].overdue
    assert "已超期的探访" not in operator                       # operators do not visit
    worker_a, worker_b = titles(area.worker_a), titles(area.worker_b)
    assert worker_a["已超期的探访"].count == 1
    assert "已超期的探访" not in worker_b                       # another community's plan
    admin = titles(area.admin)
    assert admin["待处理的服务核验异常"].count == 1
    assert "待处理的服务核验异常" not in titles(area.supervisor)  # supervisors read anomalies; admins decide them
    late.refresh_from_db()
    assert late.helper_id == hc.helper.pk                        # assigned to the street's helper
    assert titles(area.helper)["今日服务任务"].count == 1
    assert "今日服务任务" not in titles(hc.helper2_user)       # another helper's task
    m.Order.objects.filter(pk=late.pk).update(state=eo.CHECKED_OUT)
    assert "今日服务任务" not in titles(area.helper)            # done on the phone: waits for confirmation only

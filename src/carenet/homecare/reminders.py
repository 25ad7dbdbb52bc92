"""The scheduled side of home care (``manage.py homecare_tick``, also run by the demo's background services):
visit plans from the elder registry, escalation of overdue visits, orders of recurring plans, and SMS reminders.

Everything here is idempotent, so the tick can run every few minutes from any process: plans are regenerated
in place, escalation only records a change of level, recurring plans continue after ``generated_until``, and a
reminder is a unique row (kind, subject, level, day, phone) claimed before it is sent.

Home care does not import the call center (the call center imports home care). The SMS goes out through a
``send(recipient_name, phone, text) -> (ok, error)`` function handed in by the caller: the management command
builds it from the call center's notification backend (callcenter.notify), the same one civic uses.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.homecare import community
from carenet.homecare import models as m
from carenet.homecare import selectors
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import visits as evis

log = logging.getLogger("carenet.homecare")

Send = Callable[[str, str, str], tuple[bool, str]]
PLAN_HORIZON_DAYS = 28


def _claim_and_send(send: Send | None, backend: str, *, kind: str, object_id: int, level: str, due: dt.date,
                    division: Division, name: str, phone: str, text: str) -> int:
    if not phone:
        return 0
    try:
        with transaction.atomic():
            row = m.Reminder.objects.create(kind=kind, object_id=object_id, level=level, due=due, division=division,
                                            recipient=name[:50], address=phone[:40], text=text[:300], backend=backend)
    except IntegrityError:
        return 0  # already sent (by this or another process)
    if send is None:
        return 1
    try:
        ok, error = send(name, phone, text[:300])
    except Exception as exc:  # a gateway failure must not stop the tick
        log.exception("reminder backend %s failed", backend)
        ok, error = False, f"{exc.__class__.__name__}: {exc}"
    if not ok:
        m.Reminder.objects.filter(pk=row.pk).update(ok=False, error=error[:200])
    return int(ok)


def remind_orders(send: Send | None, backend: str = "", now: dt.datetime | None = None) -> int:
    """Each helper, once per order, when the order becomes due (the one definition: engine.orders.timeliness)."""
    now = now or timezone.now()
    due = selectors.filter_timeliness(m.Order.objects.filter(state__in=eo.NOT_STARTED, helper__isnull=False), eo.DUE, now)
    sent = 0
    for o in due.select_related("helper", "service_type", "division")[:2000]:
        at = timezone.localtime(o.scheduled_at)
        text = f"【织网】{at:%m-%d %H:%M} {o.service_type.name}服务（订单{o.pk}）即将开始，请在手机端“我的任务”中查看并出发。"
        sent += _claim_and_send(send, backend, kind=m.Reminder.Kind.ORDER_DUE, object_id=o.pk, level="helper",
                                due=at.date(), division=o.division, name=o.helper.name, phone=o.helper.phone, text=text)
    return sent


def _staff(role: str, division: Division) -> list[User]:
    """Active staff of a role whose area is this division or one of its ancestors (not the whole district)."""
    paths = [division.path]
    p = division.path
    while "/" in p:
        p = p.rsplit("/", 1)[0]
        paths.append(p)
    return list(User.objects.filter(role=role, is_active=True, division__path__in=paths,
                                    division__level__gte=Division.Level.STREET).exclude(phone=""))


def remind_visits(send: Send | None, backend: str = "", today: dt.date | None = None) -> int:
    """Community workers: one SMS a day with their visits due today and overdue; street reviewers: one with
    the visits escalated to the street (overdue more than ESCALATE_STREET_AFTER_DAYS)."""
    today = today or timezone.localdate()
    plans = m.VisitPlan.objects.filter(next_due__lte=today).select_related("division")
    per_worker: dict[int, list] = {}
    per_street: dict[int, list] = {}
    users: dict[int, User] = {}
    for p in plans.iterator(chunk_size=2000):
        for u in _staff(Role.WORKER, p.division):
            users[u.pk] = u
            per_worker.setdefault(u.pk, []).append(p)
        if p.escalated_to == evis.STREET:
            for u in _staff(Role.REVIEWER, p.division):
                users[u.pk] = u
                per_street.setdefault(u.pk, []).append(p)
    sent = 0
    for uid, ps in per_worker.items():
        u, overdue = users[uid], sum(1 for p in ps if p.next_due < today)
        text = (f"【织网】探访提醒：今日有 {len(ps) - overdue} 位老人探访到期"
                + (f"，{overdue} 位已逾期（已上报社区）" if overdue else "") + "，请登录系统“探访”页查看。")
        sent += _claim_and_send(send, backend, kind=m.Reminder.Kind.VISIT_DUE, object_id=uid, level=evis.COMMUNITY,
                                due=today, division=u.division, name=u.display_name, phone=u.phone, text=text)
    for uid, ps in per_street.items():
        u = users[uid]
        text = (f"【织网】探访督办：辖区有 {len(ps)} 位老人探访逾期超过 {evis.ESCALATE_STREET_AFTER_DAYS} 天，"
                "已上报街道，请督促社区尽快探访。")
        sent += _claim_and_send(send, backend, kind=m.Reminder.Kind.VISIT_OVERDUE, object_id=uid, level=evis.STREET,
                                due=today, division=u.division, name=u.display_name, phone=u.phone, text=text)
    return sent


def tick(send: Send | None = None, backend: str = "", today: dt.date | None = None,
         now: dt.datetime | None = None) -> dict:
    """One scheduled pass: visit plans of every district, escalation, recurring orders, reminders."""
    today = today or timezone.localdate()
    out = {"visit_plans": 0, "escalated": 0, "plan_orders": 0, "reminders": 0}
    for district in Division.objects.filter(level=Division.Level.DISTRICT):
        out["visit_plans"] += community.generate_visit_plans(district, today)
    out["escalated"] = community.escalate_visits(today)
    until = today + dt.timedelta(days=PLAN_HORIZON_DAYS)
    for plan in m.RecurringPlan.objects.filter(active=True).filter(Q(generated_until__isnull=True) |
                                                                   Q(generated_until__lt=until)):
        out["plan_orders"] += len(community.generate_plan_orders(plan, until))
    out["reminders"] = remind_orders(send, backend, now) + remind_visits(send, backend, today)
    return out

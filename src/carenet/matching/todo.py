"""Matching items on the home page: risk alerts to visit (动态监测), discovery visits and plan steps (精准识别),
and, for the township, alerts overdue past the escalation date."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core.roles import can
from carenet.core.todo import Item
from carenet.matching import models as m
from carenet.matching.engine import risk

MAX = 100


def items_for(user) -> list[Item]:
    if not can(user, "matching.monitor"):
        return []
    group = _("Monitoring and discovery")
    day = timezone.localdate()
    items: list[Item] = []
    alerts = (m.RiskAlert.objects.visible_to(user).filter(status__in=[m.RiskAlert.Status.OPEN, m.RiskAlert.Status.VISITED])
              .select_related("resident").order_by("deadline"))
    # a worker's own alerts, and those of their area that found no worker on the division path
    mine = alerts.filter(Q(assigned_to=user) | Q(assigned_to__isnull=True)) if user.role == "worker" else alerts.none()
    for a in mine[:MAX]:
        items.append(Item(title=_("Risk visit: %(name)s (score %(score)s)") % {"name": a.resident.name, "score": a.score},
                          url=reverse("matching:alert", args=[a.pk]), group=group, deadline=a.deadline,
                          overdue=a.deadline < day, due_soon=a.deadline <= day + dt.timedelta(days=2),
                          detail="；".join(risk.SIGNAL_LABELS_ZH.get(s, s) for s in a.signals)))
    if can(user, "matching.screen"):
        cutoff = day - dt.timedelta(days=risk.rules_on(day).escalate_after_days)
        for a in alerts.filter(deadline__lt=cutoff)[:MAX]:
            items.append(Item(title=_("Escalated risk visit: %(name)s") % {"name": a.resident.name},
                              url=reverse("matching:alert", args=[a.pk]), group=group, deadline=a.deadline,
                              overdue=True, detail=_("not visited by %(date)s") % {"date": a.deadline.isoformat()}))
    visits = (m.Discovery.objects.visible_to(user).filter(status=m.Discovery.Status.TO_VISIT)
              .select_related("resident").order_by("deadline"))
    for d in visits[:MAX]:
        items.append(Item(title=_("Discovery visit: %(name)s") % {"name": d.resident.name},
                          url=reverse("matching:discovery", args=[d.pk]), group=group, deadline=d.deadline,
                          overdue=d.deadline < day))
    steps = (m.PlanStep.objects.filter(item__in=m.Discovery.objects.visible_to(user), due__lte=day + dt.timedelta(days=3))
             .exclude(status=m.PlanStep.Status.DONE).select_related("item__resident").order_by("due"))
    for s in steps[:MAX]:
        items.append(Item(title=_("Plan measure: %(name)s · %(measure)s") % {"name": s.item.resident.name, "measure": s.measure},
                          url=reverse("matching:discovery", args=[s.item_id]), group=group, deadline=s.due,
                          overdue=s.due < day))
    return items

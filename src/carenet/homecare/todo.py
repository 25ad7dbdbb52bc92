"""Home-care items on the home page's to-do list (core.todo): a helper's open tasks of today, overdue orders
for whoever creates and dispatches them, follow-up calls that are due, overdue and due visits, open
verification anomalies for whoever decides them; all in the user's scope (the selectors)."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core import todo
from carenet.core.roles import can
from carenet.homecare import models as m
from carenet.homecare import selectors
from carenet.homecare.engine import orders as eo


def items_for(user) -> list[todo.Item]:
    if not can(user, "homecare.view"):
        return []
    group, out = _("Home-care services"), []
    today = timezone.localdate()
    if can(user, "homecare.work"):
        open_today = sum(1 for o in selectors.helper_tasks(user, today)
                         if o.state in eo.OPEN and o.state != eo.CHECKED_OUT and timezone.localtime(o.scheduled_at).date() <= today)
        if open_today:
            out.append(todo.Item(title=_("Today's service tasks"), url=reverse("homecare:phone"), group=group,
                                 count=open_today, deadline=today))
    if can(user, "homecare.order"):
        late = selectors.filter_timeliness(selectors.orders_visible_to(user), eo.OVERDUE).count()
        if late:
            out.append(todo.Item(title=_("Overdue service orders"), url=reverse("homecare:orders") + "?when=overdue",
                                 group=group, count=late, overdue=True))
    if can(user, "homecare.followup"):
        calls = selectors.followups_visible_to(user).filter(done_at__isnull=True, due__lte=today).count()
        if calls:
            out.append(todo.Item(title=_("Follow-up calls due"), url=reverse("homecare:followups"), group=group,
                                 count=calls, deadline=today))
    if can(user, "homecare.visit"):
        plans = m.VisitPlan.objects.visible_to(user)
        overdue = plans.filter(next_due__lt=today).count()
        soon = plans.filter(next_due__range=(today, today + dt.timedelta(days=2))).count()
        if overdue:
            out.append(todo.Item(title=_("Overdue visits (探访)"), url=reverse("homecare:visits") + "?when=overdue",
                                 group=group, count=overdue, overdue=True))
        if soon:
            out.append(todo.Item(title=_("Visits due within two days"), url=reverse("homecare:visits") + "?when=due",
                                 group=group, count=soon, due_soon=True))
    if can(user, "homecare.resolve"):
        anomalies = selectors.anomalies_visible_to(user).filter(status=m.Anomaly.Status.OPEN).count()
        if anomalies:
            out.append(todo.Item(title=_("Service anomalies to decide"), url=reverse("homecare:anomalies"),
                                 group=group, count=anomalies))
    return out

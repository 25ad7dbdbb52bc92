"""Civic items on the home page's to-do list: applications to route, due soon or overdue; 七单 waiting for
a step; all limited to the user's area."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from carenet.civic import models as m
from carenet.civic import selectors, services
from carenet.civic.engine import seven, service
from carenet.core import todo
from carenet.core.roles import can


def items_for(user) -> list[todo.Item]:
    if not can(user, "civic.handle"):
        return []
    group, out = _("Residents' requests"), []
    today = services.today()
    soon = services.CALENDAR.add_working_days(today, services.WARN_DAYS)
    qs = (selectors.requests_visible_to(user).filter(state__in=service.OPEN, due_on__lte=soon)
          .select_related("item", "applicant").order_by("due_on")[:20])
    for r in qs:
        out.append(todo.Item(title=f"{r.item.name}：{r.applicant_name}", url=reverse("civic:request", args=[r.pk]),
                             group=group, deadline=r.due_on, overdue=r.due_on < today, due_soon=r.due_on >= today))
    counts = selectors.queue_counts(user)
    if counts["new"]:
        out.append(todo.Item(title=_("Service applications to route"), url=reverse("civic:requests") + "?queue=new",
                             group=group, count=counts["new"]))
    if getattr(user, "role", "") == "department":
        return out    # a department login handles service requests only
    waiting = m.CommunityRequest.objects.visible_to(user).filter(
        state__in=[seven.RECEIVED, seven.SCREENED, seven.PLANNED, seven.REVISING]).count()
    if waiting:
        out.append(todo.Item(title=_("Community requests (七单) waiting for the next step"),
                             url=reverse("civic:community_list"), group=group, count=waiting))
    return out

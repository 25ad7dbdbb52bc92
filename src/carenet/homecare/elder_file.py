"""The elder file's home-care sections (people.file_sections): service orders and care visits of the person."""
from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core.permissions import can
from carenet.homecare import models as m
from carenet.homecare import selectors
from carenet.people.file_sections import ROWS, Row, Section


def services(user, elder) -> Section | None:
    if not can(user, "homecare.view"):
        return None
    qs = selectors.orders_visible_to(user).filter(elder=elder).select_related("service_type", "helper")
    rows = [Row(cells=[f"{timezone.localtime(o.scheduled_at):%Y-%m-%d %H:%M}", str(o.service_type),
                       o.helper.name if o.helper_id else "—", o.get_state_display()],
                url=reverse("homecare:order", args=[o.pk]),
                danger=o.state == m.Order.State.FAILED)
            for o in qs.order_by("-scheduled_at")[:ROWS]]
    return Section(key="services", title=_("Home-care services"),
                   headers=[_("Scheduled for"), _("Service"), _("Helper"), _("State")],
                   rows=rows, total=qs.count(), empty=_("No home-care services."), order=30)


def visits(user, elder) -> Section | None:
    if not can(user, "homecare.view"):
        return None
    qs = m.VisitRecord.objects.visible_to(user).filter(elder=elder).select_related("visitor")
    plan = m.VisitPlan.objects.visible_to(user).filter(elder=elder).first()
    # The visit page of the plan lists its records and takes a new one (for roles that visit).
    url = reverse("homecare:visit_record", args=[plan.pk]) if plan is not None and can(user, "homecare.visit") else ""
    rows = [Row(cells=[f"{timezone.localtime(v.visited_at):%Y-%m-%d}", v.visitor.display_name,
                       v.seen[:40], v.get_follow_up_display()], url=url)
            for v in qs.order_by("-visited_at")[:ROWS]]
    empty = _("No visits recorded.")
    if plan is not None:
        due = _("Next visit due %(date)s.") % {"date": plan.next_due.isoformat()}
        empty = f"{empty} {due}"
        if plan.next_due < timezone.localdate():
            rows.insert(0, Row(cells=[plan.next_due.isoformat(), "—", _("Visit overdue"), "—"], url=url, danger=True))
    return Section(key="visits", title=_("Care visits"),
                   headers=[_("Date"), _("Visitor"), _("What was seen"), _("Follow-up")],
                   rows=rows, total=qs.count(), empty=empty, order=40)

"""Assistance items on the home page: cases waiting for this user's step, and new grid reports."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from carenet.assistance import models as m
from carenet.assistance import selectors, services
from carenet.core.roles import can
from carenet.core.todo import Item

OPEN_STATES = [m.State.ACCEPTED, m.State.SURVEYED, m.State.REVIEWED, m.State.IN_NOTICE, m.State.SUBMITTED,
               m.State.RECHECK]
MAX_CASES = 200


def items_for(user) -> list[Item]:
    if not can(user, "assistance.view"):
        return []
    group = _("Social assistance")
    items: list[Item] = []
    today = services.today()
    cache: dict = {}
    cases = (m.Case.objects.visible_to(user).filter(state__in=OPEN_STATES)
             .select_related("applicant", "division").order_by("due_on")[:MAX_CASES])
    for case in cases:
        actions = [a for a in selectors.allowed_actions(user, case) if a not in ("withdraw", "close", "objection")]
        if not actions:
            continue
        info = selectors.deadline_info(case, today, cache)
        detail = ""
        if info is not None:
            detail = (_("%(n)s working days overdue") % {"n": -info.remaining} if info.level >= 2
                      else _("%(n)s working days left") % {"n": info.remaining})
        items.append(Item(
            title=f"{m.ACTION_LABELS[actions[0]]}：{case.applicant.name} · {case.get_program_display()}",
            url=reverse("assistance:case", args=[case.pk]), group=group,
            deadline=info.due if info else None, overdue=bool(info and info.level >= 2),
            due_soon=bool(info and info.level == 1), detail=detail))
    if can(user, "assistance.review"):
        late = (m.Case.objects.visible_to(user).filter(state=m.State.PAYING, next_recheck_on__lt=today)
                .select_related("applicant").order_by("next_recheck_on")[:MAX_CASES])
        for case in late:
            items.append(Item(
                title=_("Re-check overdue: %(name)s · %(program)s") % {
                    "name": case.applicant.name, "program": case.get_program_display()},
                url=reverse("assistance:case", args=[case.pk]), group=group, deadline=case.next_recheck_on,
                overdue=True, detail=_("re-check was due on %(date)s") % {"date": case.next_recheck_on.isoformat()}))
    if can(user, "assistance.intake"):
        waiting = m.GridReport.objects.visible_to(user).filter(status=m.GridReport.Status.NEW).count()
        if waiting:
            items.append(Item(title=_("Grid reports waiting for acceptance"), url=reverse("assistance:reports"),
                              group=group, count=waiting))
    return items

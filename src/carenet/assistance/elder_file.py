"""The elder file's assistance section (people.file_sections): every case the person applied for, newest first."""
from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance.models import Case, State
from carenet.core.permissions import can
from carenet.people.file_sections import ROWS, Row, Section


def cases(user, elder) -> Section | None:
    if not can(user, "assistance.view"):
        return None
    today = timezone.localdate()
    qs = Case.objects.visible_to(user).filter(applicant_id=elder.resident_id).order_by("-id")
    rows = []
    for c in qs[:ROWS]:
        amount = c.monthly_amount if c.monthly_amount is not None else c.grant_amount
        rows.append(Row(cells=[c.number, c.get_program_display(), c.get_state_display(),
                               f"{amount:.2f}" if amount is not None else "—",
                               c.next_recheck_on.isoformat() if c.next_recheck_on else "—"],
                        url=reverse("assistance:case", args=[c.pk]),
                        danger=c.recheck_overdue(today)))
    total = qs.count()
    more = f"{reverse('assistance:cases')}?{urlencode({'q': elder.resident.name})}" if total > ROWS else ""
    # Programs applied for or paid now, beside the special categories (an open 临时救助 is not "—").
    live = sorted({c.get_program_display() for c in qs.exclude(state__in=(State.REJECTED, State.CLOSED))})
    note = _("Open assistance: %(programs)s") % {"programs": "、".join(live)} if live else ""
    return Section(key="cases", title=_("Assistance cases"),
                   headers=[_("Case number"), _("Program"), _("State"), _("Amount (yuan)"), _("Next re-check")],
                   rows=rows, total=total, empty=_("No assistance applications."), more_url=more, order=20,
                   profile_note=note)

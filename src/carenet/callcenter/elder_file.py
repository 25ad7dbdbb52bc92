"""The elder file's alarm section (people.file_sections): the person's latest alarms, open ones in red."""
from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core.permissions import can
from carenet.monitoring.labels import alarm_type_label
from carenet.monitoring.models import Alarm
from carenet.people.file_sections import ROWS, Row, Section


def alarms(user, elder) -> Section | None:
    if not can(user, "alarms.view"):
        return None
    qs = Alarm.objects.visible_to(user).filter(elder=elder).order_by("-raised_at")
    link = can(user, "callcenter.console")
    rows = [Row(cells=[f"{timezone.localtime(a.raised_at):%Y-%m-%d %H:%M}", alarm_type_label(a.type),
                       a.get_severity_display(), a.get_status_display()],
                url=reverse("callcenter:alarm", args=[a.pk]) if link else "",
                danger=a.status in Alarm.ACTIVE)
            for a in qs[:ROWS]]
    return Section(key="alarms", title=_("Alarms"), headers=[_("Raised at"), _("Type"), _("Severity"), _("Status")],
                   rows=rows, total=qs.count(), empty=_("No alarms."), order=10)

"""Excel exports of the alarm and device lists (through core.list_export), shared by monitoring and the call center."""
from __future__ import annotations

from django.utils.translation import gettext as _

from carenet.core import list_export
from carenet.monitoring.labels import ROOMS, alarm_type_label, closing_label


def alarms(request, qs, filters: dict):
    qs = qs.select_related("elder__resident", "division__parent", "acknowledged_by")
    return list_export.xlsx_response(
        request.user, title=_("Alarms"), model="monitoring.alarm", filters=filters,
        headers=[_("No."), _("Raised at"), _("Type"), _("Severity"), _("Elder"), _("Area"), _("Status"),
                 _("Claimed by"), _("Closed at"), _("Closing code"), _("Escalations")],
        rows=([a.pk, a.raised_at, alarm_type_label(a.type.partition(":")[0]), a.get_severity_display(),
               a.elder.resident.name, a.division.label, a.get_status_display(),
               a.acknowledged_by.display_name if a.acknowledged_by_id else "", a.closed_at,
               closing_label(a.closing_code) if a.closing_code else "", a.escalation_level]
              for a in qs.iterator()))


def devices(request, qs, filters: dict):
    qs = qs.select_related("elder__resident")
    return list_export.xlsx_response(
        request.user, title=_("Devices"), model="devices.device", filters=filters,
        headers=[_("Device"), _("Type"), _("Elder"), _("Room"), _("Online"), _("Battery"), _("Last contact")],
        rows=([d.device_id, d.get_type_display(), d.elder.resident.name, str(ROOMS.get(d.room or "", d.room)),
               _("Yes") if d.online else _("No"), d.battery, d.last_seen]
              for d in qs.iterator()))

"""KPI report: the alarms and services of a period and area (scoped to the user), and its Excel export."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from carenet.callcenter import kpi
from carenet.callcenter.labels import alarm_type_label, closing_label
from carenet.callcenter.models import OnlineService
from carenet.core.models import Division
from carenet.core.scoping import subtree_q
from carenet.monitoring.models import Alarm
from carenet.core.exports import append as xlsx_append


@dataclasses.dataclass
class Period:
    start: dt.date
    end: dt.date          # inclusive
    area: Division | None = None

    @property
    def start_dt(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_dt(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))


def _in_area(qs, area: Division | None, field: str = "division"):
    if area is None:
        return qs
    return qs.filter(subtree_q(area.path, f"{field}__path"))


def _community_namer():
    """Alarms carry the elder's division, which may be a grid: count them under their community."""
    names = dict(Division.objects.filter(level=Division.Level.COMMUNITY).values_list("code", "name"))

    def name(path: str, own: str) -> str:
        codes = path.split("/")
        return names.get(codes[2], own) if len(codes) > 2 else own
    return name


def alarm_rows(user, period: Period) -> list[kpi.AlarmRow]:
    qs = _in_area(Alarm.objects.visible_to(user), period.area).filter(raised_at__gte=period.start_dt, raised_at__lt=period.end_dt)
    community = _community_namer()
    return [kpi.AlarmRow(id=a["id"], type=a["type"], area=community(a["division__path"], a["division__name"]),
                         raised_at=a["raised_at"],
                         acknowledged_at=a["acknowledged_at"], dispatched_at=a["dispatched_at"], status=a["status"],
                         closing_code=a["closing_code"])
            for a in qs.values("id", "type", "division__name", "division__path", "raised_at", "acknowledged_at", "dispatched_at",
                               "status", "closing_code").order_by("raised_at")]


def online_counts(user, period: Period) -> dict:
    qs = _in_area(OnlineService.objects.visible_to(user), period.area).filter(
        status=OnlineService.Status.DONE, started_at__gte=period.start_dt, started_at__lt=period.end_dt)
    by_kind = dict(qs.values_list("kind").annotate(n=Count("id")).order_by())
    return {"total": sum(by_kind.values()),
            "by_kind": [(str(label), by_kind.get(code, 0)) for code, label in OnlineService.Kind.choices]}


def offline_counts(user, period: Period) -> dict:
    """Door-to-door (offline) services: home-care visits checked out in the period (homecare's public selector)."""
    from carenet.homecare.selectors import door_to_door_counts

    return door_to_door_counts(user, period.start_dt, period.end_dt, period.area)


def unverified_closures(user, period: Period) -> list[dict]:
    """SOS and fall alarms closed without a call that reached anyone: the operator's written reason, flagged."""
    from carenet.callcenter.models import CallLog
    from carenet.monitoring.models import AlarmTransition

    qs = (_in_area(Alarm.objects.visible_to(user), period.area)
          .filter(raised_at__gte=period.start_dt, raised_at__lt=period.end_dt, type__in=["sos", "fall"],
                  closed_at__isnull=False, closed_by__isnull=False)
          .exclude(calls__outcome__in=CallLog.REACHED).select_related("elder__resident", "closed_by").distinct())
    reasons = {t.alarm_id: t.data.get("unverified_reason", "") for t in AlarmTransition.objects.filter(
        alarm__in=qs, to_status=Alarm.Status.RESOLVED)}
    return [{"alarm": a, "reason": reasons.get(a.pk, "")} for a in qs.order_by("-closed_at")[:200]]


def report(user, period: Period) -> dict:
    rows = alarm_rows(user, period)
    result = kpi.compute(rows, timezone.now(), day_of=lambda t: timezone.localtime(t).date())
    result["by_type"] = [(alarm_type_label(t), n) for t, n in result["by_type"]]
    result["by_closing"] = [(closing_label(c), n) for c, n in result["by_closing"]]
    result["online"] = online_counts(user, period)
    result["offline"] = offline_counts(user, period)
    result["rows"] = rows
    result["unverified"] = unverified_closures(user, period)
    return result


def _fmt_s(v):
    return None if v is None else round(v, 1)


def _pct(v):
    return None if v is None else round(v, 1)


def excel(user, period: Period) -> bytes:
    r = report(user, period)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")
    bold = Font(bold=True)
    area = period.area.full_name if period.area else (user.division.full_name if user.division_id else "")
    xlsx_append(ws, [_("Call-center KPIs"), area])
    xlsx_append(ws, [_("Period"), f"{period.start.isoformat()} – {period.end.isoformat()}"])
    xlsx_append(ws, [])
    summary = [
        (_("Alarms"), r["total"]),
        (_("Alarms needing an answer"), r["needing_answer"]),
        (_("Acknowledged within 60 s (%)"), _pct(r["within_60"]["pct"])),
        (_("Acknowledged within 180 s (%)"), _pct(r["within_180"]["pct"])),
        (_("Median time to acknowledge (s)"), _fmt_s(r["ack_median_s"])),
        (_("95th percentile time to acknowledge (s)"), _fmt_s(r["ack_p95_s"])),
        (_("Median time to dispatch (s)"), _fmt_s(r["dispatch_median_s"])),
        (_("95th percentile time to dispatch (s)"), _fmt_s(r["dispatch_p95_s"])),
        (_("Closed by an operator"), r["closed_by_operator"]),
        (_("False alarms"), r["false_alarms"]),
        (_("False-alarm rate (%)"), _pct(r["false_alarm_pct"])),
        (_("Online services"), r["online"]["total"]),
        (_("Offline services"), r["offline"]["total"]),
    ]
    for row in summary:
        xlsx_append(ws, list(row))
    for c in ws["A"]:
        c.font = bold
    ws.column_dimensions["A"].width = 40
    for title, pairs, head in ((_("By type"), r["by_type"], _("Type")), (_("By community"), r["by_area"], _("Community")),
                               (_("By day"), [(d.isoformat(), n) for d, n in r["by_day"]], _("Day")),
                               (_("Online services"), r["online"]["by_kind"], _("Service"))):
        s = wb.create_sheet(title[:31])
        xlsx_append(s, [head, _("Count")])
        for label, n in pairs:
            xlsx_append(s, [label, n])
        s["A1"].font = s["B1"].font = bold
        s.column_dimensions["A"].width = 30
    s = wb.create_sheet(_("Alarms"))
    xlsx_append(s, [_("Alarm"), _("Type"), _("Community"), _("Raised at"), _("Acknowledged after (s)"),
              _("Dispatched after (s)"), _("Status"), _("Closing code")])
    for a in r["rows"]:
        xlsx_append(s, [a.id, alarm_type_label(a.type), a.area, timezone.localtime(a.raised_at).strftime("%Y-%m-%d %H:%M:%S"),
                  _fmt_s((a.acknowledged_at - a.raised_at).total_seconds()) if a.acknowledged_at else None,
                  _fmt_s((a.dispatched_at - a.raised_at).total_seconds()) if a.dispatched_at else None,
                  a.status, closing_label(a.closing_code) if a.closing_code else ""])
    for c in s[1]:
        c.font = bold
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

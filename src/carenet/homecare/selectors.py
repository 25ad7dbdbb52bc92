"""Reads of the home-care app. Every read goes through the user's scope: the division subtree
(``visible_to``), narrowed for HELPER-role users to their own tasks (a helper) or their provider's orders
(a provider's office staff). Other apps (the call center's KPIs, the supervision center) read through the
public functions here: ``door_to_door_counts`` and ``anomalies_visible_to``."""
from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from carenet.core.models import Division
from carenet.core.roles import Role
from carenet.homecare import models as m
from carenet.homecare.engine import orders as eo


def _narrow(user, qs: QuerySet, helper_field: str = "helper", provider_field: str = "provider") -> QuerySet:
    if user.is_superuser or getattr(user, "role", None) != Role.HELPER:
        return qs
    helper = m.Helper.objects.filter(user=user).first()
    if helper is not None:
        return qs.filter(**{helper_field: helper})
    staff = m.ProviderStaff.objects.filter(user=user).first()
    if staff is not None:
        return qs.filter(**{provider_field: staff.provider_id})
    return qs.none()


def orders_visible_to(user) -> QuerySet[m.Order]:
    return _narrow(user, m.Order.objects.visible_to(user))


def get_order(user, pk) -> m.Order:
    o = orders_visible_to(user).select_related("elder__resident__division", "service_type", "helper", "provider").filter(pk=pk).first()
    if o is None:
        raise Http404("order not found")
    return o


def anomalies_visible_to(user, provider=None, since: dt.datetime | None = None) -> QuerySet[m.Anomaly]:
    """Verification anomalies the user may see (for the supervision center too): newest first."""
    qs = _narrow(user, m.Anomaly.objects.visible_to(user), "order__helper", "order__provider")
    if provider is not None:
        qs = qs.filter(order__provider=provider)
    if since is not None:
        qs = qs.filter(created__gte=since)
    return qs.select_related("order__service_type", "order__helper", "order__provider", "order__elder__resident")


def followups_visible_to(user) -> QuerySet[m.FollowUpCall]:
    """Follow-up calls of the user's area; a helper or provider login only those of its own orders."""
    return _narrow(user, m.FollowUpCall.objects.visible_to(user), "order__helper", "order__provider")


def helpers_visible_to(user) -> QuerySet[m.Helper]:
    qs = m.Helper.objects.visible_to(user)
    if user.is_superuser or getattr(user, "role", None) != Role.HELPER:
        return qs
    helper = m.Helper.objects.filter(user=user).first()
    if helper is not None:
        return qs.filter(pk=helper.pk)
    return _narrow(user, qs, "pk", "provider")


def providers_visible_to(user) -> QuerySet[m.Provider]:
    qs = m.Provider.objects.all()
    if user.is_superuser or getattr(user, "role", None) != Role.HELPER:
        return qs  # providers are public registry entries (their coverage may cross the user's area)
    return _narrow(user, qs, "helpers", "pk").distinct()


def filter_timeliness(qs: QuerySet[m.Order], which: str, now: dt.datetime | None = None) -> QuerySet[m.Order]:
    """The one definition of due / overdue (engine.orders.timeliness) as a query."""
    now = now or timezone.now()
    cut = eo.overdue_cutoffs(now)
    overdue = (Q(state__in=eo.NOT_STARTED, scheduled_at__lt=cut["not_started"])
               | Q(state=eo.CHECKED_OUT, checked_out_at__lt=cut["unconfirmed"]))
    # a checked-in visit: overdue after its service's maximum minutes plus the grace
    overdue_in = [o.pk for o in qs.filter(state=eo.CHECKED_IN).select_related("service_type")
                  if eo.timeliness(o.state, o.scheduled_at, now, checked_in_at=o.checked_in_at,
                                   max_minutes=o.service_type.max_minutes) == eo.OVERDUE]
    overdue |= Q(pk__in=overdue_in)
    if which == eo.OVERDUE:
        return qs.filter(overdue)
    if which == eo.DUE:
        return qs.filter(Q(state__in=eo.NOT_STARTED, scheduled_at__lt=cut["due"]) | Q(state__in=[eo.CHECKED_IN, eo.CHECKED_OUT])).exclude(overdue)
    return qs


def timeliness_of(o: m.Order, now=None) -> str:
    return eo.timeliness(o.state, o.scheduled_at, now or timezone.now(), checked_in_at=o.checked_in_at,
                         checked_out_at=o.checked_out_at, max_minutes=o.service_type.max_minutes)


def helper_tasks(user, day: dt.date | None = None) -> list[m.Order]:
    """The helper's tasks: today's, anything still open from earlier days, and the open ones of the next week."""
    day = day or timezone.localdate()
    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(day + dt.timedelta(days=8), dt.time.min, tz)
    start = dt.datetime.combine(day, dt.time.min, tz)
    today_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
    qs = orders_visible_to(user).filter(Q(scheduled_at__gte=start, scheduled_at__lt=today_end) |
                                        Q(state__in=eo.OPEN, scheduled_at__lt=end))
    return list(qs.select_related("elder__resident__division", "service_type").order_by("scheduled_at"))


def door_to_door_counts(user, start: dt.datetime, end: dt.datetime, area=None) -> dict:
    """Door-to-door services completed (checked out) in [start, end), in the user's area: the call
    center's KPI page reads this."""
    qs = orders_visible_to(user).filter(checked_out_at__gte=start, checked_out_at__lt=end,
                                         state__in=[eo.CHECKED_OUT, *eo.DONE])
    if area is not None:
        qs = qs.filter(Q(division__path=area.path) | Q(division__path__startswith=area.path + "/"))
    by_type = list(qs.values_list("service_type__name").annotate(n=Count("id")).order_by("-n"))
    return {"total": sum(n for _, n in by_type), "by_type": by_type}


def figures(user, start: dt.datetime, end: dt.datetime) -> dict:
    qs = orders_visible_to(user).filter(scheduled_at__gte=start, scheduled_at__lt=end)
    done = qs.filter(state__in=eo.DONE)
    by_type = list(done.values_list("service_type__name").annotate(n=Count("id"), s=Sum("subsidy")).order_by("-n"))
    by_provider = list(done.values_list("provider__name").annotate(n=Count("id"), s=Sum("subsidy"),
                                                                   r=Avg("rating")).order_by("-n"))
    by_area = _by_area_below(user, done)
    by_state = dict(qs.values_list("state").annotate(n=Count("id")).order_by())
    return {"by_type": by_type, "by_provider": by_provider, "by_area": by_area,
            "by_state": [(str(label), by_state.get(code, 0)) for code, label in m.Order.State.choices],
            "total": qs.count(), "done": done.count(),
            "anomalies": anomalies_visible_to(user).filter(created__gte=start, created__lt=end).count()}


def _by_area_below(user, done: QuerySet) -> list[tuple[str, int]]:
    """Completed services counted by the level just below the user's own area (a district's staff see streets,
    a street's staff communities, a community's staff grids), from the order's division path."""
    depth = (user.division.path.count("/") + 2) if getattr(user, "division_id", None) else 2
    counts: dict[str, int] = {}
    for path, n in done.values_list("division__path").annotate(n=Count("id")).order_by():
        if path:
            key = "/".join(path.split("/")[:depth])
            counts[key] = counts.get(key, 0) + n
    names = dict(Division.objects.filter(path__in=counts).values_list("path", "name"))
    return sorted(((names.get(k, "—"), n) for k, n in counts.items()), key=lambda r: (-r[1], r[0]))


def satisfaction(user) -> dict:
    calls = followups_visible_to(user).filter(satisfaction__isnull=False)
    return {"providers": list(calls.values_list("order__provider__name").annotate(a=Avg("satisfaction"), n=Count("id")).order_by("-a")),
            "helpers": list(calls.values_list("order__helper__name").annotate(a=Avg("satisfaction"), n=Count("id")).order_by("-a"))}


def runs() -> QuerySet[m.SettlementRun]:
    return m.SettlementRun.objects.all()


def statement_lines(user, run: m.SettlementRun, provider=None) -> QuerySet[m.SettlementLine]:
    qs = m.SettlementLine.objects.filter(run=run)
    if getattr(user, "role", None) == Role.HELPER and not user.is_superuser:
        staff = m.ProviderStaff.objects.filter(user=user).first()
        qs = qs.filter(provider_id=staff.provider_id) if staff else qs.none()
    elif not user.is_superuser:
        qs = qs.filter(Q(elder__resident__division__path=user.division.path) |
                       Q(elder__resident__division__path__startswith=user.division.path + "/")) if user.division_id else qs.none()
    if provider is not None:
        qs = qs.filter(provider=provider)
    return qs


def statement_totals(qs) -> list[dict]:
    return list(qs.values("provider_id", "provider__name").annotate(
        lines=Count("id"), subsidy=Sum("subsidy"), self_pay=Sum("self_pay"),
        accepted=Count("id", filter=Q(status="accepted") & ~Q(kind="adjustment")),
        disputed=Count("id", filter=Q(status="disputed")), rejected=Count("id", filter=Q(status="rejected")),
        adjustments=Count("id", filter=Q(kind="adjustment"))).order_by("provider__name"))


# ------------------------------------------------------------------ for the supervision center (facilities' app)

def anomalies_for_supervision(user, facility=None, provider=None, limit: int = 20) -> list[str]:
    """Open anomalies as short lines for the supervision center: of a provider (object, id or name), or of the
    provider that runs a facility (matched by the facility's operator name)."""
    qs = anomalies_visible_to(user).filter(status=m.Anomaly.Status.OPEN)
    if facility is not None:
        provider = getattr(facility, "operator", "") or None
        if provider is None:
            return []
    if isinstance(provider, str):
        qs = qs.filter(order__provider__name=provider)
    elif provider is not None:
        qs = qs.filter(order__provider=provider)
    return [f"{timezone.localtime(a.created):%m-%d} {a.get_kind_display()}：{a.detail}"
            f"（{a.order.provider.name if a.order.provider_id else '—'} · {a.order.helper.name if a.order.helper_id else '—'}）"
            for a in qs[:limit]]


def service_counts(user, start_today: dt.datetime, month: dt.date) -> dict:
    """Door-to-door services checked out today and this month (the big screen)."""
    tz = timezone.get_current_timezone()
    month_start = dt.datetime.combine(month, dt.time.min, tz) if isinstance(month, dt.date) and not isinstance(month, dt.datetime) else month
    far = timezone.now() + dt.timedelta(days=1)
    return {"today": door_to_door_counts(user, start_today, far)["total"],
            "month": door_to_door_counts(user, month_start, far)["total"]}

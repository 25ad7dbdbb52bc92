"""Reads for the call center. Every query starts from the user's area (core.scoping)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Avg, Count, QuerySet
from django.http import Http404
from django.utils import timezone

from carenet.callcenter.labels import EVENT_KINDS, ROOMS
from carenet.callcenter.models import OnlineService
from carenet.core.models import Division
from carenet.core.scoping import subtree_q
from carenet.devices.models import DeviceEvent
from carenet.monitoring.models import Alarm
from carenet.people.models import Resident


def get_alarm(user, pk) -> Alarm:
    """The alarm, or 404 when it does not exist *or* lies outside the user's area (no existence leak)."""
    try:
        return Alarm.objects.visible_to(user).select_related(
            "elder__resident", "division__parent", "acknowledged_by", "closed_by").get(pk=pk)
    except (Alarm.DoesNotExist, ValueError):
        raise Http404("alarm not found") from None


def sensor_timeline(elder, end: dt.datetime | None = None, hours: int = 24, limit: int = 5000) -> dict:
    """The last `hours` of device events as ECharts series: one row per (room, kind), points at event times."""
    end = end or timezone.now()
    start = end - dt.timedelta(hours=hours)
    events = (DeviceEvent.objects.filter(device__elder=elder, ts__gte=start, ts__lte=end)
              .exclude(kind="heartbeat").select_related("device").order_by("-ts")[:limit])
    rows: dict[str, list] = defaultdict(list)
    for e in events:
        room = str(ROOMS.get(e.device.room, e.device.room))
        label = f"{room} · {EVENT_KINDS.get(e.kind, e.kind)}"
        on = _is_on(e.kind, e.value)
        rows[label].append([int(e.ts.timestamp() * 1000), on])
    categories = sorted(rows)
    points = [[ms, categories.index(label), on] for label, pts in rows.items() for ms, on in pts]
    return {"categories": categories, "points": points, "start": int(start.timestamp() * 1000),
            "end": int(end.timestamp() * 1000), "count": len(points)}


def _is_on(kind: str, value: dict) -> int:
    value = value or {}
    for key in ("motion", "open", "in_bed", "occupied", "on", "alarm"):
        if key in value:
            return 1 if value[key] else 0
    return 1


def location_map(user, elder) -> dict:
    """Data for the offline location chart (no map tiles): the elder's point and the communities of the
    surrounding street, each placed at the mean position of its residents, all limited to what the user may see."""
    r = elder.resident
    codes = r.division.path.split("/")
    street = Division.objects.filter(code=codes[1]).first() if len(codes) > 1 else r.division
    own_community = codes[2] if len(codes) > 2 else None
    residents = Resident.objects.visible_to(user).filter(lat__isnull=False, lon__isnull=False)
    points = []
    for c in Division.objects.filter(parent=street, level=Division.Level.COMMUNITY).order_by("code")[:40]:
        centre = residents.filter(subtree_q(c.path)).aggregate(lat=Avg("lat"), lon=Avg("lon"), n=Count("id"))
        if centre["n"]:
            points.append({"name": c.name, "value": [round(centre["lon"], 6), round(centre["lat"], 6), centre["n"]],
                           "own": c.code == own_community})
    elder_point = [r.lon, r.lat] if r.lat is not None and r.lon is not None else None
    return {"elder": elder_point, "name": r.name, "communities": points, "street": street.name if street else ""}


def recent_alarms(elder, exclude=None, limit: int = 8):
    qs = Alarm.objects.filter(elder=elder).order_by("-raised_at")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs[:limit])


def recent_services(elder, limit: int = 8):
    return list(OnlineService.objects.filter(elder=elder).exclude(status=OnlineService.Status.PLANNED)
                .select_related("operator").order_by("-started_at", "-id")[:limit])


def area_choices(user) -> QuerySet[Division]:
    levels = [Division.Level.DISTRICT, Division.Level.STREET, Division.Level.COMMUNITY]
    return Division.objects.visible_to(user).filter(level__in=levels)

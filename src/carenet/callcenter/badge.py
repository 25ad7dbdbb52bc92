"""The live alarm badge on every page, for the roles that handle alarms: how many wait unacknowledged."""
import time

from django.db.models import Count, Min, Q
from django.http import JsonResponse

from carenet.core.permissions import needs
from carenet.monitoring.models import Alarm


@needs("alarms.handle")
def badge_json(request):
    row = (Alarm.objects.visible_to(request.user).filter(status=Alarm.Status.RAISED, held_until__isnull=True)
           .aggregate(waiting=Count("id"), critical=Count("id", filter=Q(severity=Alarm.Severity.CRITICAL)),
                      oldest=Min("raised_at")))
    oldest = row["oldest"]
    return JsonResponse({"waiting": row["waiting"], "critical": row["critical"],
                         "oldest_s": int(time.time() - oldest.timestamp()) if oldest else None})

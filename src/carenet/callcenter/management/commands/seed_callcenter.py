"""Demo history for the call center: handled alarms of the past weeks (for the KPI page), online services,
and this week's care calls for key elders. Deterministic; synthetic data only."""
import datetime as dt
import random

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from carenet.callcenter.models import CallLog, Dispatch, OnlineService
from carenet.callcenter.services import schedule_care_calls
from carenet.core.models import User
from carenet.core.roles import Role
from carenet.monitoring.models import Alarm, AlarmTransition
from carenet.people.models import ElderProfile

TYPES = [("sos", "critical", 30), ("inactivity", "high", 14), ("fall", "critical", 8), ("bathroom_overstay", "high", 8),
         ("no_routine", "medium", 10), ("vitals_high_bp_sys", "high", 8), ("smoke", "critical", 2), ("water_leak", "high", 3),
         ("device_offline", "medium", 10), ("low_battery", "low", 7)]
CLOSING = [("false_alarm", 30), ("elder_fine", 30), ("assistance_given", 15), ("family_handled", 12), ("ambulance", 5),
           ("device_fault", 8)]


def pick(rnd, weighted):
    return rnd.choices([w[:-1] if len(w) > 2 else w[0] for w in weighted], [w[-1] for w in weighted])[0]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--per-day", type=int, default=12)
        parser.add_argument("--seed", type=int, default=4)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when alarm history exists")

    @transaction.atomic
    def handle(self, *args, days, per_day, seed, if_empty, **opts):
        if if_empty and Alarm.objects.filter(status="resolved").exists():
            self.stdout.write("call-center history already present")
            return
        operators = list(User.objects.filter(role=Role.OPERATOR)) or list(User.objects.filter(is_superuser=True))
        elders = list(ElderProfile.objects.select_related("resident").order_by("id")[:2000])
        if not operators or not elders:
            self.stdout.write("no operators or elders: run `manage.py seed` first")
            return
        rnd = random.Random(seed)
        now = timezone.now().replace(microsecond=0)
        n = 0
        for day in range(days, 0, -1):
            for _ in range(rnd.randint(per_day // 2, per_day * 3 // 2)):
                elder, op = rnd.choice(elders), rnd.choice(operators)
                type_, severity = pick(rnd, TYPES)
                raised = now - dt.timedelta(days=day, seconds=rnd.randint(0, 86399))
                ack_s = min(900, rnd.lognormvariate(3.0, 0.8))  # median ~20 s, a tail past 60 and 180 s
                auto = type_ in ("inactivity", "no_routine", "device_offline") and rnd.random() < 0.25
                a = Alarm.objects.create(elder=elder, division_id=elder.resident.division_id, type=type_,
                                         key=f"demo:{type_}:{raised.timestamp()}", severity=severity,
                                         severity_rank=Alarm.SEVERITY_RANK[severity], message=type_, condition_at=raised,
                                         last_at=raised, raised_at=raised, status="raised")
                AlarmTransition.objects.create(alarm=a, ts=raised, from_status="", to_status="raised", note="demo")
                if auto:
                    closed = raised + dt.timedelta(seconds=rnd.randint(20, 600))
                    Alarm.objects.filter(pk=a.pk).update(status="auto_cleared", closing_code="auto_cleared", closed_at=closed)
                    AlarmTransition.objects.create(alarm=a, ts=closed, from_status="raised", to_status="auto_cleared", note="demo")
                    n += 1
                    continue
                acked = raised + dt.timedelta(seconds=round(ack_s))
                code = pick(rnd, CLOSING)
                dispatched = None
                CallLog.objects.create(alarm=a, callee="elder", callee_name=elder.resident.name, phone=elder.resident.phone,
                                       outcome="fine" if code in ("false_alarm", "elder_fine") else rnd.choice(["needs_help", "no_answer"]),
                                       ts=acked + dt.timedelta(seconds=rnd.randint(5, 40)), operator=op)
                if code in ("assistance_given", "ambulance", "family_handled"):
                    dispatched = acked + dt.timedelta(seconds=rnd.randint(30, 300))
                    target = {"ambulance": "ambulance", "family_handled": "family"}.get(code, rnd.choice(["helper", "community"]))
                    Dispatch.objects.create(alarm=a, target=target, dispatched_at=dispatched, operator=op,
                                            arrived_at=dispatched + dt.timedelta(seconds=rnd.randint(300, 1800)))
                closed = (dispatched or acked) + dt.timedelta(seconds=rnd.randint(60, 1800))
                Alarm.objects.filter(pk=a.pk).update(status="resolved", acknowledged_at=acked, acknowledged_by=op,
                                                     dispatched_at=dispatched, closed_at=closed, closed_by=op, closing_code=code)
                AlarmTransition.objects.bulk_create([
                    AlarmTransition(alarm=a, ts=acked, from_status="raised", to_status="acknowledged", actor=op, actor_name=op.username),
                    AlarmTransition(alarm=a, ts=closed, from_status="acknowledged", to_status="resolved", actor=op,
                                    actor_name=op.username, data={"closing_code": code})])
                if code not in ("false_alarm", "device_fault"):
                    OnlineService.objects.create(elder=elder, division_id=elder.resident.division_id, kind="emergency",
                                                 direction="in", status="done", outcome="answered", started_at=raised,
                                                 duration_s=int((closed - raised).total_seconds()), operator=op,
                                                 alarm_id=a.pk)
                n += 1
            for _ in range(rnd.randint(3, 8)):
                elder, op = rnd.choice(elders), rnd.choice(operators)
                kind = rnd.choice(["care_call", "care_call", "information", "comfort"])
                OnlineService.objects.create(
                    elder=elder, division_id=elder.resident.division_id, kind=kind,
                    direction="out" if kind == "care_call" else "in", status="done",
                    outcome="well" if kind == "care_call" else "answered",
                    started_at=now - dt.timedelta(days=day, seconds=rnd.randint(8 * 3600, 18 * 3600)),
                    duration_s=rnd.randint(60, 900), operator=op)
        planned = schedule_care_calls()
        self.stdout.write(f"call-center demo: {n} past alarms, {planned} care calls planned")

"""Daily deadline digest: cases due soon, overdue, and escalated to the district, by township.

Run it from cron each working morning (e.g. `manage.py assistance_deadlines --level 2`) and mail the
output to the district office; the same levels are shown in the case lists.
"""
from collections import defaultdict

from django.core.management.base import BaseCommand

from carenet.assistance import models as m
from carenet.assistance import adapter, selectors, services

LABELS = {1: "due soon 即将到期", 2: "overdue 已超期", 3: "escalated 已升级督办"}


class Command(BaseCommand):
    help = "List assistance cases by deadline level (1 due soon, 2 overdue, 3 escalated), by township."

    def add_arguments(self, parser):
        parser.add_argument("--level", type=int, default=1, help="minimum level to list (default 1)")

    def handle(self, *args, level, **opts):
        today = services.today()
        cache: dict = {}
        rows = defaultdict(list)
        qs = m.Case.objects.filter(due_on__isnull=False).select_related("division", "applicant").order_by("due_on")
        for case in qs:
            info = selectors.deadline_info(case, today, cache)
            if info and info.level >= level:
                township = adapter.township_of(case.division)
                rows[township.name].append((info, case))
        total = 0
        for township in sorted(rows):
            self.stdout.write(f"{township}")
            for info, case in rows[township]:
                total += 1
                self.stdout.write(f"  {case.number}  {case.get_state_display()}  {case.applicant.name}  step {info.step}"
                                  f"  due {info.due}{'*' if info.provisional else ''}  {LABELS[info.level]}"
                                  f"  ({info.remaining} working days)")
        self.stdout.write(f"{total} cases at level >= {level} on {today}")

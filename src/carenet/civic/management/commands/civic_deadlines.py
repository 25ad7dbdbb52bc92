"""Escalate service applications overdue by ESCALATE_DAYS working days (run daily, e.g. from cron)."""
from django.core.management.base import BaseCommand

from carenet.civic import services


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **opts):
        self.stdout.write(f"escalated {services.escalate_overdue()} overdue applications")

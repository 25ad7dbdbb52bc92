"""Mark and audit the risk alerts still open past their escalation date (run daily, e.g. from cron)."""
from django.core.management.base import BaseCommand

from carenet.matching import monitoring


class Command(BaseCommand):
    help = "Escalate overdue risk alerts (动态监测) to the township."

    def handle(self, *args, **opts):
        self.stdout.write(f"escalated: {monitoring.escalate_overdue()}")

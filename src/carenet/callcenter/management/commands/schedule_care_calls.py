from django.core.management.base import BaseCommand

from carenet.callcenter.services import schedule_care_calls


class Command(BaseCommand):
    help = "Plan proactive care calls (主动关怀) for key elders who had none in the last --days days. Run daily or weekly."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days, **opts):
        n = schedule_care_calls(period_days=days)
        self.stdout.write(f"care calls planned: {n}")

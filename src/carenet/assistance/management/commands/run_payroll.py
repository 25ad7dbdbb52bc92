from django.core.management.base import BaseCommand, CommandError

from carenet.assistance import jobs
from carenet.assistance import models as m


class Command(BaseCommand):
    help = "Run (or resume) a queued payroll job by id: writes progress and log to the PayrollRun row."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int, nargs="?")
        parser.add_argument("--pending", action="store_true",
                            help="run every queued run, and runs left 'running' by a web worker that died")

    def handle(self, *args, run_id=None, pending=False, **opts):
        if run_id is None and not pending:
            raise CommandError("give a run id or --pending")
        ids = [run_id] if run_id else list(m.PayrollRun.objects.filter(
            status__in=[m.PayrollRun.Status.QUEUED, m.PayrollRun.Status.RUNNING]).values_list("pk", flat=True))
        for pk in ids:
            run = jobs.execute(pk)
            self.stdout.write(f"run {pk}: {run.status}, {run.lines} lines, total {run.total}")
            self.stdout.write(run.log)

from django.core.management.base import BaseCommand, CommandError

from carenet.core import import_jobs, imports
from carenet.core.models import ImportRun


class Command(BaseCommand):
    help = "Run (or resume) a queued spreadsheet import by id: writes progress and log to the ImportRun row."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int, nargs="?")
        parser.add_argument("--pending", action="store_true",
                            help="run every queued import, and imports left 'running' by a web worker that died")

    def handle(self, *args, run_id=None, pending=False, **opts):
        if run_id is None and not pending:
            raise CommandError("give a run id or --pending")
        ids = [run_id] if run_id else import_jobs.pending()
        for pk in ids:
            if not ImportRun.objects.filter(pk=pk).exists():
                raise CommandError(f"no import run {pk}")
            run = imports.execute(pk)
            self.stdout.write(f"import {pk}: {run.status}, {run.accepted} imported, {run.rejected} rejected")
            self.stdout.write(run.log)

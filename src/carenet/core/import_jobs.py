"""The import job: a staged upload → read, header and mapping, normalise → the importer's checks → one transaction
that writes every valid row (the importer's bulk writes), the run's counts, the reject report and the IMPORT audit
row. Nothing is written if any part of the write fails.

The job follows the codebase's job pattern (docs/architecture.md, like assistance's PayrollRun): the `ImportRun`
row holds status, progress (0-100) and a log that staff read on the result page, written in short separate
transactions while the job runs. ``core.imports.start`` queues a run and ``launch`` starts the job body
(``core.imports.execute``) in a background thread once the request's transaction has committed;
``manage.py run_imports <id>`` (or ``--pending``) runs it from the command line (cron, or after the web worker died).
This module imports nothing of core.imports (the registry and the parsing live there).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core import audit
from carenet.core.models import AuditLog, ImportRun
from carenet.core.tabular import rejects_xlsx

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=10)  # a "running" run older than this lost its worker: it may run again


def _update(run_id: int, **fields) -> None:
    with transaction.atomic():
        ImportRun.objects.filter(pk=run_id).update(**fields)


class Steps:
    """The run's log and progress as the job goes (a no-op for a synchronous import_file)."""

    def __init__(self, run: ImportRun | None):
        self.run = run
        self.t0 = time.monotonic()
        self.lines: list[str] = [ln for ln in (run.log.splitlines() if run else []) if ln]

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def __call__(self, line: str, progress: int | None = None) -> None:
        if self.run is None:
            return
        self.lines.append(f"{timezone.localtime():%H:%M:%S} {line}")
        fields: dict = {"log": "\n".join(self.lines)}
        if progress is not None:
            fields["progress"] = progress
        _update(self.run.pk, **fields)


def write_run(importer, parsed, ctx, run: ImportRun, steps: Steps | None = None) -> ImportRun:
    """The importer's checks, then every valid row in one transaction with the run's counts and audit row.
    A failure while writing rolls all of it back and leaves the run FAILED with a message and the rejects."""
    steps = steps or Steps(None)
    importer.validate(parsed.rows, ctx)
    good, bad = parsed.accepted, parsed.rejected
    steps(_("Checked %(n)s rows: %(ok)s can be imported, %(bad)s rejected (%(s).1f s)") % {
        "n": len(parsed.rows), "ok": len(good), "bad": len(bad), "s": steps.elapsed()}, 60)
    sheets = [{"sheet": lay.sheet, "header_row": lay.header_row, "mapping": lay.mapping()} for lay in parsed.layouts]
    report = rejects_xlsx(importer.schema, bad) if bad else None
    counts = {"sheets": sheets, "total": len(parsed.rows), "rejected": len(bad), "report": report}
    name = f"{importer.key}: {run.filename}"[:200]
    ctx.run = run
    if good:
        steps(_("Writing %(n)s rows…") % {"n": len(good)}, 65)
    try:
        with transaction.atomic():
            if good:
                importer.write(good, ctx)
            ImportRun.objects.filter(pk=run.pk).update(
                status=ImportRun.Status.DONE, accepted=len(good), outcome=ctx.outcome, progress=100,
                finished=timezone.now(), **counts)
            audit.record(AuditLog.Action.IMPORT, actor=ctx.user, model="core.importrun", object_id=str(run.pk),
                         object_repr=name, division_path=run.division_path,
                         note=f"rows={len(parsed.rows)} accepted={len(good)} rejected={len(bad)}")
    except Exception as exc:
        log.exception("import %s of run %s failed; rolled back", importer.key, run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED, accepted=0, finished=timezone.now(),
            message=f"写入时出错（{exc.__class__.__name__}），已全部撤销，没有导入任何一行。请稍后重试或联系管理员。",
            **counts)
        audit.record(AuditLog.Action.IMPORT, actor=ctx.user, model="core.importrun", object_id=str(run.pk),
                     object_repr=name, division_path=run.division_path,
                     note=f"failed and rolled back: {exc.__class__.__name__}")
        steps(_("Failed: nothing was imported."))
    else:
        rate = len(good) / max(steps.elapsed(), 1e-6)
        steps(_("Done: %(n)s rows imported in %(s).1f s (%(rate).0f rows/s)") % {
            "n": len(good), "s": steps.elapsed(), "rate": rate}, 100)
    run.refresh_from_db()
    return run


def claim(run_id: int) -> bool:
    """Mark a run as running, unless another worker has it (queued, failed, or running but stale)."""
    stale = timezone.now() - STALE_AFTER
    return bool(ImportRun.objects.filter(
        Q(status__in=[ImportRun.Status.QUEUED, ImportRun.Status.FAILED])
        | Q(status=ImportRun.Status.RUNNING, started__lt=stale), pk=run_id, upload__isnull=False,
    ).update(status=ImportRun.Status.RUNNING, started=timezone.now(), progress=1, message=""))


def launch(run: ImportRun, body) -> threading.Thread:
    """Run the job (core.imports.execute) in a background thread once the transaction that created the run has
    committed."""

    def target():
        try:
            body(run.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=target, name=f"import-{run.pk}", daemon=True)
    transaction.on_commit(thread.start)
    return thread


def pending() -> list[int]:
    """Runs a worker should pick up: queued ones, and running ones whose worker stopped."""
    stale = timezone.now() - STALE_AFTER
    return list(ImportRun.objects.filter(
        Q(status=ImportRun.Status.QUEUED) | Q(status=ImportRun.Status.RUNNING, started__lt=stale),
        upload__isnull=False).values_list("pk", flat=True))

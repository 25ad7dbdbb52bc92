"""The monthly payroll job: entitlements + ledger -> engine.payroll.compute_month -> new ledger lines.

``execute(run_id)`` is the job body and only runs the payroll: it writes its progress (0-100) and a log to the
``PayrollRun`` row in short separate transactions (so the page can poll them) and inserts all the lines of the
run in one transaction at the end: a failed run leaves no lines. Re-running a month computes only differences
(补发 / 追回), so a re-run after a successful one writes nothing; the unique key
(entitlement, period, run_month, kind) blocks a concurrent duplicate.

``services.start_payroll`` schedules it (``launch``: a background thread of the web process, started after the
commit); ``manage.py run_payroll <id>`` runs it from the command line (cron, or after a web worker died).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carenet.assistance import models as m
from carenet.assistance import workflow
from carenet.assistance.adapter import load_engine_entitlements
from carenet.assistance.engine import payroll as epay
from carenet.assistance.payments import age_tier_changes, area_q, entitlements_for
from carenet.core import audit
from carenet.core.models import AuditLog

log = logging.getLogger(__name__)

CHUNK = 10_000


def _update(run_id: int, **fields) -> None:
    with transaction.atomic():
        m.PayrollRun.objects.filter(pk=run_id).update(**fields)


def _log(run: m.PayrollRun, buf: list[str], line: str, progress: int | None = None) -> None:
    buf.append(f"{timezone.localtime():%H:%M:%S} {line}")
    fields = {"log": "\n".join(buf)}
    if progress is not None:
        fields["progress"] = progress
    _update(run.pk, **fields)


def ledger_index(run: m.PayrollRun) -> dict[str, dict]:
    """entitlement -> period -> net amount paid: one GROUP BY over the ledger (program and township are
    denormalised on the line, so no join)."""
    idx: dict[str, dict] = defaultdict(dict)
    qs = m.LedgerLine.objects.filter(area_q(run), period__lte=run.run_month)
    if run.program != "*":
        qs = qs.filter(program=run.program)
    for eid, period, total in qs.values_list("entitlement_id", "period").annotate(s=Sum("amount")).order_by():
        idx[str(eid)][period] = total
    return idx


def write_lines(run: m.PayrollRun, lines) -> int:
    """Insert the run's lines (COPY on PostgreSQL, bulk_create elsewhere)."""
    if not lines:
        return 0
    if connection.vendor == "postgresql":
        cols = ("entitlement_id", "payroll_run_id", "program", "beneficiary_id", "township_id", "period", "run_month",
                "kind", "amount", "persons", "note")
        table = m.LedgerLine._meta.db_table
        with connection.cursor() as cur:
            with cur.connection.cursor().copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                for ln in lines:
                    copy.write_row((int(ln.entitlement_id), run.pk, ln.program, ln.beneficiary_id,
                                    int(ln.township_code), ln.period, ln.run_month, ln.kind, ln.amount, ln.persons,
                                    ln.note))
        return len(lines)
    objs = [m.LedgerLine(entitlement_id=int(ln.entitlement_id), payroll_run_id=run.pk, program=ln.program,
                         beneficiary_id=ln.beneficiary_id, township_id=int(ln.township_code), period=ln.period,
                         run_month=ln.run_month, kind=ln.kind, amount=ln.amount, persons=ln.persons, note=ln.note)
            for ln in lines]
    m.LedgerLine.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


def execute(run_id: int, *, mark_paying: bool = True) -> m.PayrollRun:
    # The log is read by staff: written in the site language whatever thread or command runs the job.
    with translation.override(settings.LANGUAGE_CODE):
        return _execute(run_id, mark_paying=mark_paying)


def _execute(run_id: int, *, mark_paying: bool = True) -> m.PayrollRun:
    run = m.PayrollRun.objects.select_related("area", "started_by").get(pk=run_id)
    if run.status == m.PayrollRun.Status.DONE:
        return run
    buf: list[str] = [l for l in run.log.splitlines() if l]
    t0 = time.monotonic()
    _update(run.pk, status=m.PayrollRun.Status.RUNNING, started=timezone.now(), progress=1)
    try:
        qs = entitlements_for(run)
        held = m.PaymentHold.objects.filter(released_at__isnull=True, entitlement__in=qs.values("pk")) \
            .select_related("entitlement").order_by("entitlement_id")
        if held:
            _log(run, buf, _("%(n)s held payments skipped this month: %(list)s") % {
                "n": len(held), "list": "；".join(f"{h.entitlement.payee_name}（{h.reason}）" for h in held[:20])})
            qs = qs.exclude(pk__in=[h.entitlement_id for h in held])
        moved = age_tier_changes(run)
        if moved:
            _log(run, buf, _("%(n)s old-age allowances move to a higher age tier") % {"n": moved})
        ents, _codes = load_engine_entitlements(qs)
        _log(run, buf, _("Loaded %(n)s entitlements (%(program)s, %(area)s), %(s).2f s") % {
                           "n": len(ents), "program": run.get_program_display(), "area": run.area.name,
                           "s": time.monotonic() - t0}, 10)
        idx = ledger_index(run)
        _log(run, buf, _("Payment history read: %(n)s paid months, %(s).2f s") % {
                           "n": sum(len(v) for v in idx.values()), "s": time.monotonic() - t0}, 20)
        lines: list[epay.LedgerLine] = []
        periods = 0
        for i in range(0, len(ents), CHUNK):
            part = epay.compute_month(ents[i:i + CHUNK], idx, run.run_month)
            lines.extend(part.lines)
            periods += part.periods_checked
            done = min(i + CHUNK, len(ents))
            _update(run.pk, progress=20 + int(60 * done / max(len(ents), 1)))
        total = epay.yuan(sum((ln.amount for ln in lines), Decimal("0")))
        kinds = defaultdict(int)
        kind_names = dict(m.LedgerLine.Kind.choices) if hasattr(m, "LedgerLine") else {}
        for ln in lines:
            kinds[ln.kind] += 1
        _log(run, buf, _("Computed %(n)s payment lines over %(periods)s months (%(kinds)s), total %(total)s yuan, %(s).2f s") % {
                           "n": len(lines), "periods": periods, "total": total, "s": time.monotonic() - t0,
                           "kinds": "、".join(f"{kind_names.get(k, k)} {v}" for k, v in sorted(kinds.items()))
                           or _("nothing new")}, 80)
        with transaction.atomic():
            written = write_lines(run, lines)
            m.PayrollRun.objects.filter(pk=run.pk).update(entitlements=len(ents), lines=written, total=total)
            run.refresh_from_db()
            audit.record(AuditLog.Action.CREATE, run, actor=run.started_by, division_path=run.area.path,
                         after={"run_month": run.run_month.isoformat(), "program": run.program, "lines": written,
                                "total": str(total), **{k: v for k, v in kinds.items()}},
                         note="assistance.payroll lines written")
        _log(run, buf, _("Wrote %(n)s ledger lines, %(s).2f s") % {"n": written, "s": time.monotonic() - t0}, 90)
        if mark_paying and lines:
            paid_ids = {int(ln.entitlement_id) for ln in lines if ln.amount > 0}
            cases = m.Case.objects.filter(state=m.State.APPROVED, entitlement__pk__in=paid_ids)
            moved = 0
            for case in cases:
                try:
                    workflow.mark_paying(run.started_by, case)
                    moved += 1
                except Exception as exc:  # e.g. the runner is a near relative: leave it for someone else
                    _log(run, buf, _("Case %(id)s not moved to paying: %(why)s") % {"id": case.pk, "why": workflow.error_message(exc)})
            if moved:
                _log(run, buf, _("%(n)s approved cases now paying") % {"n": moved})
        _log(run, buf, _("Done in %(s).2f s") % {"s": time.monotonic() - t0}, 100)
        _update(run.pk, status=m.PayrollRun.Status.DONE, finished=timezone.now(), progress=100)
    except Exception as exc:
        buf.append(_("Failed: %(error)s") % {"error": exc})
        log.exception("payroll run %s failed", run.pk)  # the traceback goes to the server log, not the staff page
        _update(run.pk, status=m.PayrollRun.Status.FAILED, finished=timezone.now(), log="\n".join(buf))
    run.refresh_from_db()
    return run


STALE_AFTER = dt.timedelta(minutes=10)


def resumable(run: m.PayrollRun) -> bool:
    if run.status == m.PayrollRun.Status.FAILED:
        return True
    if run.status in (m.PayrollRun.Status.QUEUED, m.PayrollRun.Status.RUNNING):
        return (run.started or run.created) < timezone.now() - STALE_AFTER
    return False


def launch(run: m.PayrollRun) -> threading.Thread:
    """Run the job in a background thread once the transaction that created the run has committed."""

    def target():
        try:
            execute(run.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=target, name=f"payroll-{run.pk}", daemon=True)
    transaction.on_commit(thread.start)
    return thread

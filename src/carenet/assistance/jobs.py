"""The monthly payroll job: entitlements + ledger -> engine.payroll.compute_month -> new ledger lines.

``execute(run_id)`` is the job body. It writes its progress (0-100) and a log to the ``PayrollRun`` row in
short separate transactions (so the page can poll them) and inserts all the lines of the run in one
transaction at the end: a failed run leaves no lines. Re-running a month computes only differences
(补发 / 追回), so a re-run after a successful one writes nothing; the unique key
(entitlement, period, run_month, kind) blocks a concurrent duplicate.

``launch(run)`` runs it in a background thread of the web process; ``manage.py run_payroll <id>`` runs it
from the command line (cron, or after a web worker died mid-run).
"""
from __future__ import annotations

import datetime as dt
import io
import threading
import time
import traceback
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from carenet.assistance import models as m
from carenet.assistance import services
from carenet.assistance.engine import eligibility as elig
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import rules as erules
from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.scoping import subtree_q

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


def _area_q(run: m.PayrollRun, field: str = "township") -> Q:
    return subtree_q(run.area.path, f"{field}__path")


def entitlements_for(run: m.PayrollRun):
    qs = m.Entitlement.objects.filter(_area_q(run))
    if run.program != "*":
        qs = qs.filter(program=run.program)
    return qs


def load_engine_entitlements(qs) -> tuple[list[epay.Entitlement], dict[int, str]]:
    """Engine entitlements for a queryset, with their changes, in two queries."""
    changes: dict[int, list[epay.AmountChange]] = defaultdict(list)
    for eid, month, amount, persons, reason in m.EntitlementChange.objects.filter(entitlement__in=qs.values("pk")) \
            .values_list("entitlement_id", "effective_month", "monthly_amount", "persons", "reason"):
        changes[eid].append(epay.AmountChange(month, amount, persons, reason))
    township_codes: dict[int, str] = {}
    out = []
    for pk, ben, prog, tid, tcode, amount, persons, start, stop in qs.values_list(
            "pk", "beneficiary_id", "program", "township_id", "township__code", "monthly_amount", "persons",
            "start_month", "stop_month").order_by("pk"):
        township_codes[tid] = tcode
        out.append(epay.Entitlement(str(pk), ben, prog, str(tid), amount, persons, start, stop,
                                    tuple(changes.get(pk, ()))))
    return out, township_codes


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 Feb
        return dt.date(d.year - years, 2, 28)


def _birthday(birth: dt.date, age: int) -> dt.date:
    """The day ``age`` is reached (a 29 Feb birthday is reached on 1 Mar in common years, as in the engine)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def age_tier_changes(run: m.PayrollRun) -> int:
    """高龄津贴 tiers follow the age: when a beneficiary reaches a higher tier's age on or before the run
    month, add the change with the engine's ``restate`` (from the month after the birthday; idempotent).
    Birthdays in the 12 months up to the run month are looked at (earlier ones were handled by earlier
    runs). A beneficiary who would no longer qualify is left for a written stop decision."""
    if run.program not in ("*", erules.ELDERLY):
        return 0
    month_end = epay.add_months(run.run_month, 1) - dt.timedelta(days=1)
    window_start = epay.add_months(run.run_month, -12)
    rules = services.all_rules()
    ages = sorted({int(t[0]) for row in m.Standard.objects.filter(key="elderly_allowance_tiers")
                   for t in (row.value or [])})
    if not ages:
        return 0
    near_birthday = Q()
    for age in ages:
        near_birthday |= Q(payee__birth_date__gt=_years_before(window_start, age),
                           payee__birth_date__lte=_years_before(month_end, age))
    candidates = []
    for ent in entitlements_for(run).filter(program=erules.ELDERLY).filter(near_birthday).filter(
            Q(stop_month__isnull=True) | Q(stop_month__gt=run.run_month)).select_related("payee", "division"):
        path = services.path_codes(ent.division)
        tiers = elig.elderly_tiers(rules, path, month_end)
        dates = [b for b in (_birthday(ent.payee.birth_date, lo) for lo, _hi, _a in tiers)
                 if max(ent.start_month, window_start) < b <= month_end]
        if dates:
            candidates.append((ent, rules, path, dates))
    moved = 0
    for ent, rules, path, dates in candidates:

        def amount_on(d, ent=ent, rules=rules, path=path):
            o = elig.assess_elderly_allowance(str(ent.payee_id), ent.payee.birth_date, path, rules, d)
            return (o.monthly_amount if o.eligible else None), 1

        try:
            with transaction.atomic():
                moved += services.restate_entitlement(run.started_by, ent, dates, amount_on,
                                                      reason="年龄进入高龄津贴新档次", note="assistance.payment age tier")
        except epay.NoLongerEligibleError:
            continue
    return moved


def ledger_index(run: m.PayrollRun) -> dict[str, dict]:
    """entitlement -> period -> net amount paid: one GROUP BY over the ledger (program and township are
    denormalised on the line, so no join)."""
    idx: dict[str, dict] = defaultdict(dict)
    qs = m.LedgerLine.objects.filter(_area_q(run), period__lte=run.run_month)
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
    run = m.PayrollRun.objects.select_related("area", "started_by").get(pk=run_id)
    if run.status == m.PayrollRun.Status.DONE:
        return run
    buf: list[str] = [l for l in run.log.splitlines() if l]
    t0 = time.monotonic()
    _update(run.pk, status=m.PayrollRun.Status.RUNNING, started=timezone.now(), progress=1)
    try:
        qs = entitlements_for(run)
        moved = age_tier_changes(run)
        if moved:
            _log(run, buf, f"{moved} old-age allowances move to a higher age tier (高龄津贴调档)")
        ents, _codes = load_engine_entitlements(qs)
        _log(run, buf, f"loaded {len(ents)} entitlements ({run.get_program_display()}, {run.area.name}) "
                       f"in {time.monotonic() - t0:.2f}s", 10)
        idx = ledger_index(run)
        _log(run, buf, f"ledger indexed: {sum(len(v) for v in idx.values())} paid periods, "
                       f"{time.monotonic() - t0:.2f}s", 20)
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
        for ln in lines:
            kinds[ln.kind] += 1
        _log(run, buf, f"computed {len(lines)} lines over {periods} periods "
                       f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'nothing new'}), "
                       f"total {total} yuan, {time.monotonic() - t0:.2f}s", 80)
        with transaction.atomic():
            written = write_lines(run, lines)
            m.PayrollRun.objects.filter(pk=run.pk).update(entitlements=len(ents), lines=written, total=total)
            run.refresh_from_db()
            audit.record(AuditLog.Action.CREATE, run, actor=run.started_by, division_path=run.area.path,
                         after={"run_month": run.run_month.isoformat(), "program": run.program, "lines": written,
                                "total": str(total), **{k: v for k, v in kinds.items()}},
                         note="assistance.payroll lines written")
        _log(run, buf, f"wrote {written} ledger lines, {time.monotonic() - t0:.2f}s", 90)
        if mark_paying and lines:
            paid_ids = {int(ln.entitlement_id) for ln in lines if ln.amount > 0}
            cases = m.Case.objects.filter(state=m.State.APPROVED, entitlement__pk__in=paid_ids)
            moved = 0
            for case in cases:
                try:
                    services.mark_paying(run.started_by, case)
                    moved += 1
                except Exception as exc:  # e.g. the runner is a near relative: leave it for someone else
                    _log(run, buf, f"case {case.pk} not moved to paying: {services.error_message(exc)}")
            if moved:
                _log(run, buf, f"{moved} approved cases now paying")
        _log(run, buf, f"done in {time.monotonic() - t0:.2f}s", 100)
        _update(run.pk, status=m.PayrollRun.Status.DONE, finished=timezone.now(), progress=100)
    except Exception as exc:
        buf.append(f"FAILED: {exc}")
        buf.append(traceback.format_exc(limit=3))
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


def requeue(run: m.PayrollRun, user) -> m.PayrollRun:
    with transaction.atomic():
        m.PayrollRun.objects.filter(pk=run.pk).update(status=m.PayrollRun.Status.QUEUED, progress=0,
                                                      log=run.log + f"\nrequeued by {user.username}")
        audit.record(AuditLog.Action.UPDATE, run, actor=user, division_path=run.area.path,
                     note="assistance.payroll requeued")
    run.refresh_from_db()
    return run


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


# ------------------------------------------------------------------ bank file

def bank_rows(run: m.PayrollRun):
    """Net amount per payee for the run's lines: one bank transfer (or recovery) per entitlement."""
    totals = run.ledger_lines.values("entitlement_id").annotate(amount=Sum("amount")).order_by("entitlement_id")
    ents = {e.pk: e for e in m.Entitlement.objects.filter(pk__in=[t["entitlement_id"] for t in totals])
            .select_related("township", "division", "payee")}
    for t in totals:
        e = ents[t["entitlement_id"]]
        yield e, t["amount"]


def bank_csv(run: m.PayrollRun) -> bytes:
    import csv

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["序号", "收款人", "身份证号", "银行账号", "金额（元）", "救助项目", "街道（乡镇）", "社区（村）", "发放月份"])
    for i, (e, amount) in enumerate(bank_rows(run), 1):
        w.writerow([i, e.payee_name, e.payee.id_number, e.bank_account, f"{amount:.2f}",
                    dict(m.Program.choices).get(e.program, e.program), e.township.name, e.division.label,
                    f"{run.run_month:%Y-%m}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8

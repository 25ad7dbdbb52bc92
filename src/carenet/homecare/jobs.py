"""The monthly settlement job: confirmed orders + corrections -> engine.settlement.settle -> lines.

``execute(run_id)`` loads every confirmed, not yet settled order checked out before the month's end and the
pending corrections, asks the engine for the lines, and writes them in one transaction (COPY on PostgreSQL),
updating the run's progress and log in short separate transactions so the page can poll them. A month is
settled once: running it again finds nothing left to settle and writes nothing (idempotent).
"""
from __future__ import annotations

import datetime as dt
import threading
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance.engine import rules as erules
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.homecare import models as m
from carenet.homecare import services
from carenet.homecare.engine import entitlement as ee
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import settlement as es
from carenet.people.models import ElderCategory

logger = logging.getLogger("carenet.homecare")


def _update(run_id: int, **fields) -> None:
    """Progress and log on the run row, committed at once even while the job holds its own transaction open
    (a short-lived thread has its own database connection), so the page's poll sees it."""
    def write():
        try:
            with transaction.atomic():
                m.SettlementRun.objects.filter(pk=run_id).update(**fields)
        finally:
            connection.close()

    if connection.in_atomic_block:
        if connection.vendor != "postgresql":
            return  # SQLite has one writer: the job's transaction; the log is written in full after it
        t = threading.Thread(target=write, name=f"settlement-progress-{run_id}")
        t.start()
        t.join()
    else:
        with transaction.atomic():
            m.SettlementRun.objects.filter(pk=run_id).update(**fields)


class _Log:
    def __init__(self, run_id):
        self.run_id, self.buf = run_id, []

    def __call__(self, line, progress=None):
        self.buf.append(f"{timezone.localtime():%H:%M:%S} {line}")
        fields = {"log": "\n".join(self.buf)}
        if progress is not None:
            fields["progress"] = progress
        _update(self.run_id, **fields)


def _month_bounds(month: dt.date):
    tz = timezone.get_current_timezone()
    end = es.next_month(month)
    return dt.datetime.combine(month, dt.time.min, tz), dt.datetime.combine(end, dt.time.min, tz)


class Budgets:
    """Each (elder, month)'s budget from the dated standards: the elders' categories and divisions loaded once
    (``elders`` is a subquery of elder ids: a long literal IN list is slow), the standard resolved once per
    (division, month)."""

    def __init__(self, elders):
        from carenet.people.models import ElderProfile

        self.cats: dict[int, list[str]] = defaultdict(list)
        for eid, code in ElderCategory.objects.filter(elder_id__in=elders).values_list("elder_id", "code").iterator(chunk_size=50000):
            self.cats[eid].append(code)
        self.div_of = dict(ElderProfile.objects.filter(pk__in=elders).values_list("pk", "resident__division_id")
                           .iterator(chunk_size=50000))
        self.divisions = {d.pk: d for d in Division.objects.filter(pk__in=set(self.div_of.values()))}
        self.rules: dict[int, erules.RuleSet] = {}
        self.tables: dict[tuple[int, dt.date], dict] = {}

    def __call__(self, eid: int, month: dt.date) -> Decimal:
        did = self.div_of.get(eid)
        if did is None:
            return ee.ZERO
        table = self.tables.get((did, month))
        if table is None:
            d = self.divisions[did]
            rules = self.rules.get(did) or self.rules.setdefault(did, services.rules_for(d))
            res = services.standard(d, "homecare_budget_monthly", month, rules=rules)
            table = self.tables[(did, month)] = erules.as_mapping(res.value) if res else {}
        return ee.budget_for(self.cats.get(eid, ()), table).amount


def budgets_for(pairs: set[tuple[int, dt.date]], elders=None) -> dict[tuple[int, dt.date], Decimal]:
    book = Budgets(elders if elders is not None else {e for e, _ in pairs})
    return {(e, mo): book(e, mo) for e, mo in pairs}


BATCH = 20000   # orders read, settled and written per step
LOCK_CLASS = 11011  # advisory lock namespace of the home-care settlement


def execute(run_id: int) -> m.SettlementRun:
    """Settle the run's month, streaming the orders elder by elder (ordered by elder and check-out time, the
    engine's own order): each batch of elders is settled by the pure engine and written at once (a preformatted
    COPY on PostgreSQL), all in one transaction that holds the run's row lock. Elders with an order of an earlier
    month (confirmed late) are settled at the end, with what their earlier months already used."""
    run = m.SettlementRun.objects.get(pk=run_id)
    log = _Log(run.pk)
    if run.status == m.SettlementRun.Status.DONE:
        return run
    _update(run.pk, status=m.SettlementRun.Status.RUNNING)
    try:
        with transaction.atomic():
            # one settlement of a month at a time: an advisory lock on PostgreSQL (a row lock on the run would
            # also block the progress updates, which are written from another connection); SQLite has one writer
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, run.pk])
            locked = m.SettlementRun.objects.get(pk=run.pk)
            if locked.status == m.SettlementRun.Status.DONE:
                return locked
            n, total = _settle(run, log)
            m.SettlementRun.objects.filter(pk=run.pk).update(
                status=m.SettlementRun.Status.DONE, progress=100, lines=n, subsidy=total, finished=timezone.now())
            audit.record(AuditLog.Action.CREATE, model="homecare.settlementrun", object_id=str(run.pk),
                         object_repr=_("Settlement %(month)s: %(n)s lines, %(total)s yuan") % {
                             "month": f"{run.month:%Y-%m}", "n": n, "total": total}, actor=run.created_by,
                         note="homecare.settlement")
        log(_("Settled: %(n)s lines, subsidy %(total)s yuan") % {"n": n, "total": total}, 100)
    except Exception as exc:  # the run row keeps the error for the page; nothing was written (one transaction)
        _update(run.pk, status=m.SettlementRun.Status.FAILED)
        logger.exception("home-care settlement run %s failed", run.pk)   # the traceback goes to the server log
        log(_("Failed, nothing was written: %(error)s") % {"error": exc})
        raise
    run.refresh_from_db()
    return run


def _settle(run: m.SettlementRun, log) -> tuple[int, Decimal]:
    month = run.month
    _start, end = _month_bounds(month)
    settled = m.SettlementLine.objects.filter(order=OuterRef("pk")).exclude(kind=es.ADJUSTMENT)
    qs = (m.Order.objects.filter(state__in=eo.DONE, checked_out_at__lt=end, provider__isnull=False)
          .filter(~Exists(settled)))  # an anti-join: the orders no line settles yet
    open_anoms: dict[int, list[str]] = defaultdict(list)
    upheld: dict[int, list[str]] = defaultdict(list)
    for oid, status, kind, detail in m.Anomaly.objects.filter(
            status__in=[m.Anomaly.Status.OPEN, m.Anomaly.Status.UPHELD], order__in=qs.values("pk")
    ).values_list("order_id", "status", "kind", "detail").iterator(chunk_size=20000):
        (open_anoms if status == m.Anomaly.Status.OPEN else upheld)[oid].append(f"{m.Anomaly.Kind(kind).label}：{detail}")
    log(_("%(open)s orders with an open anomaly, %(upheld)s upheld") % {"open": len(open_anoms), "upheld": len(upheld)}, 5)
    budgets = Budgets(qs.values("elder_id"))
    log(_("Budgets of %(n)s elders") % {"n": len(budgets.div_of)}, 15)
    tz = timezone.get_current_timezone()
    writer = _Writer(run, month)
    late_elders: dict[int, list[es.Item]] = {}
    done = 0
    batch: list[es.Line] = []
    elder, items = None, []

    def flush_elder():
        if not items:
            return
        if any(i.service_month < month for i in items):
            late_elders[elder] = list(items)   # settled at the end, with their earlier months' use
            return
        batch.extend(es.settle(month, items, {(elder, month): budgets(elder, month)}))

    rows = qs.order_by("elder_id", "checked_out_at", "pk").values_list(
        "pk", "elder_id", "provider_id", "checked_out_at", "price", "subsidy")
    month_start = _start
    for oid, eid, pid, out_at, price, subsidy in _stream(rows):
        if eid != elder:
            flush_elder()
            elder, items = eid, []
            if len(batch) >= BATCH:
                done += writer.write(batch)
                batch = []
                log(_("%(n)s lines written") % {"n": done}, min(90, 20 + done // 20000))
        if oid in upheld:
            st, why = es.REJECTED, "；".join(upheld[oid])
        elif oid in open_anoms:
            st, why = es.DISPUTED, "待核实：" + "；".join(open_anoms[oid])
        else:
            st, why = es.ACCEPTED, ""
        smonth = month if out_at >= month_start else out_at.astimezone(tz).date().replace(day=1)
        items.append(es.Item(oid, eid, pid, smonth, out_at, price, subsidy, st, why[:300]))
    flush_elder()
    if late_elders:
        used: dict[tuple[int, dt.date], Decimal] = {}
        ids = list(late_elders)
        for i in range(0, len(ids), 5000):
            for eid, smonth, s in (m.SettlementLine.objects.filter(elder_id__in=ids[i:i + 5000], service_month__lt=month)
                                   .values_list("elder_id", "service_month").annotate(s=Sum("subsidy"))
                                   .values_list("elder_id", "service_month", "s")):
                used[(eid, smonth)] = s
        for eid, its in late_elders.items():
            months = {i.service_month for i in its}
            batch.extend(es.settle(month, its, {(eid, mo): budgets(eid, mo) for mo in months}, used))
    corrections = [es.Correction(c.pk, c.order_id, c.order.elder_id, c.order.provider_id, month_of_line(c), c.delta, c.reason)
                   for c in m.Correction.objects.filter(line__isnull=True).select_related("order")]
    batch.extend(es.settle(month, (), {}, {}, corrections))
    done += writer.write(batch)
    log(_("%(n)s lines written (%(late)s elders with late orders, %(corrections)s corrections)") % {
        "n": done, "late": len(late_elders), "corrections": len(corrections)}, 95)
    return done, writer.total


def _stream(rows):
    """The rows of a values_list queryset, read through a server-side cursor on PostgreSQL without the ORM's
    per-row work (the columns need no conversion: ids, an aware timestamp, decimals); the ORM elsewhere."""
    if connection.vendor != "postgresql":
        yield from rows.iterator(chunk_size=BATCH)
        return
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cur:
        with cur.connection.cursor(name=f"homecare_settle_{id(rows)}") as server:
            server.itersize = BATCH
            server.execute(sql, params)
            yield from server


def month_of_line(c: m.Correction) -> dt.date:
    line = m.SettlementLine.objects.filter(order_id=c.order_id).exclude(kind=es.ADJUSTMENT).first()
    return line.service_month if line else es.month_start(timezone.localtime(c.order.checked_out_at).date())


COLS = ("run_id", "month", "service_month", "kind", "status", "provider_id", "elder_id", "order_id", "correction_id",
        "price", "subsidy", "self_pay", "reason")
NULL = "\\N"
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": " ", "\n": " ", "\r": " "})


class _Writer:
    """Writes lines as they are computed: COPY of preformatted text on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, run, month):
        self.run, self.month, self.total = run, month, ee.ZERO
        self.prefix = f"{run.pk}\t{month.isoformat()}\t"

    def write(self, lines) -> int:
        if not lines:
            return 0
        self.total += sum((ln.subsidy for ln in lines), ee.ZERO)
        if connection.vendor == "postgresql":
            table = m.SettlementLine._meta.db_table
            pre = self.prefix
            text = "".join(
                f"{pre}{ln.service_month.isoformat()}\t{ln.kind}\t{ln.status}\t{ln.provider_id}\t{ln.elder_id}\t"
                f"{NULL if ln.order_id is None else ln.order_id}\t"
                f"{NULL if ln.correction_id is None else ln.correction_id}\t"
                f"{ln.price}\t{ln.subsidy}\t{ln.self_pay}\t{ln.reason.translate(_ESCAPE) if ln.reason else ''}\n"
                for ln in lines)
            with connection.cursor() as cur:
                with cur.connection.cursor().copy(f'COPY "{table}" ({", ".join(COLS)}) FROM STDIN') as copy:
                    copy.write(text)
            return len(lines)
        m.SettlementLine.objects.bulk_create([m.SettlementLine(
            run_id=self.run.pk, month=self.month, service_month=ln.service_month, kind=ln.kind, status=ln.status,
            provider_id=ln.provider_id, elder_id=ln.elder_id, order_id=ln.order_id, correction_id=ln.correction_id,
            price=ln.price, subsidy=ln.subsidy, self_pay=ln.self_pay, reason=ln.reason) for ln in lines], batch_size=2000)
        return len(lines)


def write_lines(run, month, lines, progress=None) -> int:
    return _Writer(run, month).write(lines)


def start(user, month: dt.date) -> m.SettlementRun:
    from carenet.core.permissions import require

    require(user, "homecare.settle")
    month = es.month_start(month)
    with transaction.atomic():
        run, created = m.SettlementRun.objects.get_or_create(month=month, defaults={"created_by": user})
        if created:
            audit.record(AuditLog.Action.CREATE, run, actor=user, division_path=user.division.path if user.division_id else "",
                         note=f"homecare.settlement start {month:%Y-%m}")
    return run


def requeue(run: m.SettlementRun) -> None:
    """A failed run goes back to the queue before it is launched again (it resumes; settled lines never change)."""
    if run.status == m.SettlementRun.Status.FAILED:
        m.SettlementRun.objects.filter(pk=run.pk).update(status=m.SettlementRun.Status.QUEUED, progress=0)
        run.status, run.progress = m.SettlementRun.Status.QUEUED, 0


def launch(run: m.SettlementRun) -> threading.Thread:
    def target():
        try:
            execute(run.pk)
        except Exception:
            pass  # recorded on the run row
        finally:
            connection.close()

    t = threading.Thread(target=target, name=f"settlement-{run.pk}", daemon=True)
    transaction.on_commit(t.start)
    return t

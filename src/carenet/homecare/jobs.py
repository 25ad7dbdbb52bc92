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
from contextlib import contextmanager
from itertools import groupby
from operator import itemgetter
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery, Sum
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
    """Each (elder, month)'s budget in cents from the dated standards: the categories and divisions of the
    given elders loaded once, the standard resolved once per (division, month), the budget once per
    (division, month, categories)."""

    def __init__(self, elders):
        from carenet.people.models import ElderProfile, Resident

        elders = list(elders)
        cats: dict[int, list[str]] = defaultdict(list)
        self.div_of: dict[int, int] = {}
        if connection.vendor == "postgresql":   # one array parameter, not 100,000 placeholders
            with connection.cursor() as cur:
                cur.execute(f'SELECT elder_id, code FROM "{ElderCategory._meta.db_table}" WHERE elder_id = ANY(%s)',
                            [elders])
                for eid, code in cur.fetchall():
                    cats[eid].append(code)
                cur.execute(f'SELECT e.id, r.division_id FROM "{ElderProfile._meta.db_table}" e '
                            f'JOIN "{Resident._meta.db_table}" r ON r.id = e.resident_id WHERE e.id = ANY(%s)', [elders])
                self.div_of.update(cur.fetchall())
            elders = ()
        for i in range(0, len(elders), IN_CHUNK):
            chunk = elders[i:i + IN_CHUNK]
            for eid, code in ElderCategory.objects.filter(elder_id__in=chunk).values_list("elder_id", "code"):
                cats[eid].append(code)
            self.div_of.update(ElderProfile.objects.filter(pk__in=chunk).values_list("pk", "resident__division_id"))
        self.cats = {eid: tuple(sorted(c)) for eid, c in cats.items()}
        self.divisions = {d.pk: d for d in Division.objects.filter(pk__in=set(self.div_of.values()))}
        self.rules: dict[int, erules.RuleSet] = {}
        self.tables: dict[tuple[int, dt.date], dict] = {}
        self.memo: dict[tuple, int] = {}

    def __call__(self, eid: int, month: dt.date) -> int:
        did = self.div_of.get(eid)
        if did is None:
            return 0
        key = (did, month, self.cats.get(eid, ()))
        cents = self.memo.get(key)
        if cents is None:
            table = self.tables.get((did, month))
            if table is None:
                d = self.divisions[did]
                rules = self.rules.get(did) or self.rules.setdefault(did, services.rules_for(d))
                res = services.standard(d, "homecare_budget_monthly", month, rules=rules)
                table = self.tables[(did, month)] = erules.as_mapping(res.value) if res else {}
            cents = self.memo[key] = es.cents(ee.budget_for(key[2], table).amount)
        return cents


BATCH = 20000   # lines handed to the database per write
LOG_EVERY = 100000  # lines between two progress notes (each is a short second connection)
IN_CHUNK = 5000  # ids per IN list
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
    start, end = _month_bounds(month)
    pg = connection.vendor == "postgresql"
    settled = m.SettlementLine.objects.filter(order=OuterRef("pk")).exclude(kind=es.ADJUSTMENT)
    qs = (m.Order.objects.filter(state__in=eo.DONE, checked_out_at__lt=end, provider__isnull=False)
          .filter(~Exists(settled)))  # an anti-join: the orders no line settles yet
    anomalies = _anomalies(end, str if pg else int)
    log(_("%(open)s orders with an open anomaly, %(upheld)s upheld") % {
        "open": sum(st == es.DISPUTED for st, _w in anomalies.values()),
        "upheld": sum(st == es.REJECTED for st, _w in anomalies.values())}, 5)
    if pg:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL work_mem = '256MB'")  # the sort by elder and check-out time stays in memory
    pending = _pending_pg(month, start, end) if pg else _pending_orm(qs, month, start)
    budgets = Budgets([eid for eid, _rows in pending])
    log(_("Budgets of %(n)s elders") % {"n": len(budgets.div_of)}, 15)
    late_elders: dict[int, list[tuple]] = {}
    done = 0
    with _writer(run, month) as main:
        for eid, items, late in _items(pending, month, anomalies, pg):
            if late:
                late_elders[eid] = items   # settled at the end, with their earlier months' use
                continue
            main.add(eid, es.settle_elder(month, items, {month: budgets(eid, month)}))
            if main.waiting >= BATCH:
                main.flush()
                if main.n - done >= LOG_EVERY:
                    done = main.n
                    log(_("%(n)s lines written") % {"n": done}, min(90, 20 + done // 20000))
    pending = None
    with _writer(run, month) as writer:
        if late_elders:
            used = _used(late_elders, month)
            for eid, items in late_elders.items():
                months = {it[2] for it in items}
                writer.add(eid, es.settle_elder(month, items, {mo: budgets(eid, mo) for mo in months},
                                                used.get(eid)))
        corrections = _corrections(month)
        writer.add_lines(es.settle(month, (), {}, {}, corrections))
    n = main.n + writer.n
    log(_("%(n)s lines written (%(late)s elders with late orders, %(corrections)s corrections)") % {
        "n": n, "late": len(late_elders), "corrections": len(corrections)}, 95)
    return n, main.total + writer.total


def _anomalies(end, key) -> dict:
    """order id (as ``key`` makes it) -> (status, reason) of the pending orders with an open or upheld anomaly:
    upheld ones are rejected, open ones disputed. From the anomalies' side (an index probe per anomaly for its
    order's line), not the pending orders' anti-join over every order ever checked out."""
    found: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    settled = m.SettlementLine.objects.filter(order=OuterRef("order_id")).exclude(kind=es.ADJUSTMENT)
    for oid, status, kind, detail in m.Anomaly.objects.filter(
            status__in=[m.Anomaly.Status.OPEN, m.Anomaly.Status.UPHELD], order__state__in=eo.DONE,
            order__checked_out_at__lt=end, order__provider__isnull=False).filter(~Exists(settled)).order_by(
    ).values_list("order_id", "status", "kind", "detail").iterator(chunk_size=20000):
        found[oid][status == m.Anomaly.Status.UPHELD].append(f"{m.Anomaly.Kind(kind).label}：{detail}")
    return {key(oid): (es.REJECTED, "；".join(upheld)[:300]) if upheld else (es.DISPUTED, ("待核实：" + "；".join(open_))[:300])
            for oid, (open_, upheld) in found.items()}


def _pending_pg(month: dt.date, start, end) -> list[tuple[int, str]]:
    """The pending orders, one row per elder (ordered by elder): the elder's orders as one text blob, one
    ``id provider service-month price-cents subsidy-cents`` record a line in check-out order (service month
    empty for the month itself). The per-order work in Python is then a split, not a driver row."""
    order, line = m.Order._meta.db_table, m.SettlementLine._meta.db_table
    sql = f"""
        SELECT o.elder_id, string_agg(
            o.id || E'\\t' || o.provider_id || E'\\t' ||
            CASE WHEN o.checked_out_at >= %s THEN '' ELSE to_char(o.checked_out_at AT TIME ZONE %s, 'YYYY-MM-01') END
            || E'\\t' || (o.price * 100)::bigint || E'\\t' || (o.subsidy * 100)::bigint,
            E'\\n' ORDER BY o.checked_out_at, o.id)
        FROM "{order}" o
        WHERE o.state = ANY(%s) AND o.checked_out_at < %s AND o.provider_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM "{line}" l WHERE l.order_id = o.id AND NOT l.kind = %s)
        GROUP BY o.elder_id ORDER BY o.elder_id"""
    out: list[tuple[int, str]] = []
    with connection.cursor() as cur:
        with cur.connection.cursor(name=f"homecare_settle_{month:%Y%m}") as server:
            server.execute(sql, [start, str(timezone.get_current_timezone()), list(eo.DONE), end, es.ADJUSTMENT])
            while rows := server.fetchmany(5000):
                out.extend(rows)
    return out


def _pending_orm(qs, month: dt.date, start) -> list[tuple[int, list]]:
    rows = qs.order_by("elder_id", "checked_out_at", "pk").values_list(
        "pk", "elder_id", "provider_id", "checked_out_at", "price", "subsidy")
    return [(eid, [(oid, pid, month if out >= start else timezone.localtime(out).date().replace(day=1),
                    es.cents(price), es.cents(subsidy)) for oid, _e, pid, out, price, subsidy in group])
            for eid, group in groupby(rows, key=itemgetter(1))]


def _items(pending, month: dt.date, anomalies: dict, text: bool):
    """(elder, the engine's item tuples, whether any is of an earlier month) per elder."""
    accepted = es.ACCEPTED
    for eid, rows in pending:
        items, late = [], False
        for rec in (r.split("\t") for r in rows.split("\n")) if text else rows:
            oid, pid, smonth, price, planned = rec
            if text:
                price, planned = int(price), int(planned)
                if smonth:
                    smonth, late = dt.date.fromisoformat(smonth), True
                else:
                    smonth = month
            elif smonth != month:
                late = True
            a = anomalies.get(oid)
            items.append((oid, pid, smonth, price, planned, a[0], a[1]) if a else
                         (oid, pid, smonth, price, planned, accepted, ""))
        yield eid, items, late


def _used(late_elders, month: dt.date) -> dict[int, dict[dt.date, int]]:
    """What earlier settlements (lines and adjustments) already paid for each late elder's earlier months."""
    used: dict[int, dict[dt.date, int]] = defaultdict(dict)
    ids = list(late_elders)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f'SELECT elder_id, service_month, sum(subsidy) FROM "{m.SettlementLine._meta.db_table}" '
                        'WHERE elder_id = ANY(%s) AND service_month < %s GROUP BY elder_id, service_month', [ids, month])
            for eid, smonth, s in cur.fetchall():
                used[eid][smonth] = es.cents(s)
        return used
    for i in range(0, len(ids), IN_CHUNK):
        for eid, smonth, s in (m.SettlementLine.objects.filter(elder_id__in=ids[i:i + IN_CHUNK], service_month__lt=month)
                               .values_list("elder_id", "service_month").annotate(s=Sum("subsidy"))
                               .values_list("elder_id", "service_month", "s")):
            used[eid][smonth] = es.cents(s)
    return used


def _corrections(month: dt.date) -> list[es.Correction]:
    """The pending corrections, each with the service month of the line it corrects (one query)."""
    line_month = (m.SettlementLine.objects.filter(order=OuterRef("order_id")).exclude(kind=es.ADJUSTMENT)
                  .values("service_month")[:1])
    return [es.Correction(cid, oid, eid, pid, smonth or es.month_start(timezone.localtime(out).date()), delta, reason)
            for cid, oid, eid, pid, smonth, out, delta, reason in
            m.Correction.objects.filter(line__isnull=True).annotate(smonth=Subquery(line_month)).order_by("pk")
            .values_list("pk", "order_id", "order__elder_id", "order__provider_id", "smonth", "order__checked_out_at",
                         "delta", "reason")]


COLS = ("run_id", "month", "service_month", "kind", "status", "provider_id", "elder_id", "order_id", "correction_id",
        "price", "subsidy", "self_pay", "reason")
NULL = "\\N"
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": " ", "\n": " ", "\r": " "})


class _Memo(dict):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        value = self[key] = self.fn(key)
        return value


class _Writer:
    """Collects the engine's line tuples and hands them to the database every BATCH lines: bulk_create of
    model rows (SQLite), or preformatted text into one open COPY per writer on PostgreSQL (see _CopyWriter)."""

    def __init__(self, run, month):
        self.run, self.month = run, month
        self.n, self.cents, self.buf = 0, 0, []

    @property
    def waiting(self) -> int:
        return len(self.buf)

    @property
    def total(self) -> Decimal:
        return es.yuan(self.cents)

    def add(self, eid, lines, correction_id=None) -> None:
        self.cents += sum(ln[6] for ln in lines)
        self.n += len(lines)
        yuan = es.yuan
        self.buf.extend(m.SettlementLine(
            run_id=self.run.pk, month=self.month, service_month=sm, kind=kind, status=st, provider_id=pid,
            elder_id=eid, order_id=oid, correction_id=correction_id, price=yuan(price), subsidy=yuan(subsidy),
            self_pay=yuan(self_pay), reason=why) for kind, st, oid, pid, sm, price, subsidy, self_pay, why in lines)

    def add_lines(self, lines: list[es.Line]) -> None:
        """Lines of the object engine (adjustments), one by one with their correction."""
        for ln in lines:
            self.add(ln.elder_id, [(ln.kind, ln.status, ln.order_id, ln.provider_id, ln.service_month, es.cents(ln.price),
                                    es.cents(ln.subsidy), es.cents(ln.self_pay), ln.reason)], ln.correction_id)

    def flush(self) -> None:
        m.SettlementLine.objects.bulk_create(self.buf, batch_size=2000)
        self.buf = []

    def close(self) -> None:
        if self.buf:
            self.flush()


class _CopyWriter(_Writer):
    """One COPY for all the lines the writer gets, fed preformatted text through a queue (a psycopg writer
    thread sends it while the engine computes the next batch)."""

    def __init__(self, run, month):
        super().__init__(run, month)
        self.prefix = f"{run.pk}\t{month.isoformat()}\t"
        self.money = _Memo(lambda c: str(es.yuan(c)))
        self.iso = _Memo(dt.date.isoformat)
        self.copy = None

    def add(self, eid, lines, correction_id=None) -> None:
        self.cents += sum(ln[6] for ln in lines)
        self.n += len(lines)
        pre, money, iso, e = self.prefix, self.money, self.iso, str(eid)
        corr = NULL if correction_id is None else correction_id
        self.buf.extend(
            f"{pre}{iso[sm]}\t{kind}\t{st}\t{pid}\t{e}\t{NULL if oid is None else oid}\t{corr}\t"
            f"{money[price]}\t{money[subsidy]}\t{money[self_pay]}\t{why.translate(_ESCAPE) if why else ''}\n"
            for kind, st, oid, pid, sm, price, subsidy, self_pay, why in lines)

    def flush(self) -> None:
        if self.copy is None:
            from psycopg.copy import QueuedLibpqWriter

            self._cursor = connection.cursor()
            raw = self._cursor.cursor
            self._ctx = raw.copy(f'COPY "{m.SettlementLine._meta.db_table}" ({", ".join(COLS)}) FROM STDIN',
                                 writer=QueuedLibpqWriter(raw))
            self.copy = self._ctx.__enter__()
        self.copy.write("".join(self.buf))
        self.buf = []

    def close(self, exc=None) -> None:
        if exc is None and self.buf:
            self.flush()
        if self.copy is not None:
            self._ctx.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)
            self._cursor.close()
            self.copy = None


@contextmanager
def _writer(run, month):
    w = _CopyWriter(run, month) if connection.vendor == "postgresql" else _Writer(run, month)
    try:
        yield w
    except BaseException as exc:
        if isinstance(w, _CopyWriter):
            w.close(exc)
        raise
    w.close()


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

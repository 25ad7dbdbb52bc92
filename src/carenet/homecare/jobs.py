"""The monthly settlement job: confirmed orders + corrections -> engine.settlement.settle -> lines.

``execute(run_id)`` loads every confirmed, not yet settled order checked out before the month's end and the
pending corrections, asks the engine for the lines, and writes them in one transaction (COPY on PostgreSQL),
updating the run's progress and log in short separate transactions so the page can poll them. A month is
settled once: running it again finds nothing left to settle and writes nothing (idempotent).
"""
from __future__ import annotations

import datetime as dt
import threading
import traceback
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from carenet.assistance.engine import rules as erules
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.homecare import models as m
from carenet.homecare import services
from carenet.homecare.engine import entitlement as ee
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import settlement as es
from carenet.people.models import ElderCategory


def _update(run_id: int, **fields) -> None:
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


def budgets_for(pairs: set[tuple[int, dt.date]], elders=None) -> dict[tuple[int, dt.date], Decimal]:
    """Each (elder, month)'s budget from the dated standards: resolved once per (division, month), then the
    elder's categories (one query for all). ``elders`` is a subquery of the elder ids (a long literal IN list
    is slow); without it the ids of ``pairs`` are used."""
    from carenet.people.models import ElderProfile

    ids = elders if elders is not None else {e for e, _ in pairs}
    cats: dict[int, list[str]] = defaultdict(list)
    for eid, code in ElderCategory.objects.filter(elder_id__in=ids).values_list("elder_id", "code").iterator(chunk_size=20000):
        cats[eid].append(code)
    div_of = dict(ElderProfile.objects.filter(pk__in=ids).values_list("pk", "resident__division_id").iterator(chunk_size=20000))
    divisions = {d.pk: d for d in Division.objects.filter(pk__in=set(div_of.values()))}
    rules_cache: dict[int, erules.RuleSet] = {}
    table_cache: dict[tuple[int, dt.date], tuple] = {}
    out = {}
    for eid, month in pairs:
        did = div_of.get(eid)
        key = (did, month)
        if did is not None and key not in table_cache:
            d = divisions[did]
            rules = rules_cache.get(did) or rules_cache.setdefault(did, services.rules_for(d))
            res = services.standard(d, "homecare_budget_monthly", month, rules=rules)
            table_cache[key] = (erules.as_mapping(res.value), res) if res else ({}, None)
        table, _res = table_cache.get(key, ({}, None))
        out[(eid, month)] = ee.budget_for(cats.get(eid, ()), table).amount if did is not None else ee.ZERO
    return out


def execute(run_id: int) -> m.SettlementRun:
    run = m.SettlementRun.objects.get(pk=run_id)
    log = _Log(run.pk)
    if run.status == m.SettlementRun.Status.DONE:
        return run
    _update(run.pk, status=m.SettlementRun.Status.RUNNING)
    try:
        month = run.month
        _start, end = _month_bounds(month)
        log("loading confirmed orders not yet settled", 5)
        settled = m.SettlementLine.objects.filter(order=OuterRef("pk")).exclude(kind=es.ADJUSTMENT)
        qs = (m.Order.objects.filter(state__in=eo.DONE, checked_out_at__lt=end, provider__isnull=False)
              .filter(~Exists(settled)))  # an anti-join: the orders no line settles yet
        rows = list(qs.values_list("pk", "elder_id", "provider_id", "checked_out_at", "price", "subsidy")
                    .iterator(chunk_size=50000))
        log(f"{len(rows)} orders", 30)
        open_anoms: dict[int, list[str]] = defaultdict(list)
        upheld: dict[int, list[str]] = defaultdict(list)
        loaded = {r[0] for r in rows}
        for oid, status, kind, detail in m.Anomaly.objects.filter(
                status__in=[m.Anomaly.Status.OPEN, m.Anomaly.Status.UPHELD], order__checked_out_at__lt=end
        ).values_list("order_id", "status", "kind", "detail").iterator(chunk_size=20000):
            if oid not in loaded:
                continue
            (open_anoms if status == m.Anomaly.Status.OPEN else upheld)[oid].append(f"{m.Anomaly.Kind(kind).label}：{detail}")
        del loaded
        tz = timezone.get_current_timezone()
        items = []
        for oid, eid, pid, out_at, price, subsidy in rows:
            smonth = out_at.astimezone(tz).date().replace(day=1)
            if oid in upheld:
                st, why = es.REJECTED, "；".join(upheld[oid])
            elif oid in open_anoms:
                st, why = es.DISPUTED, "待核实：" + "；".join(open_anoms[oid])
            else:
                st, why = es.ACCEPTED, ""
            items.append(es.Item(oid, eid, pid, smonth, out_at, price, subsidy, st, str(why)[:300]))
        del rows
        corrections = [es.Correction(c.pk, c.order_id, c.order.elder_id, c.order.provider_id,
                                     month_of_line(c), c.delta, c.reason)
                       for c in m.Correction.objects.filter(line__isnull=True).select_related("order")]
        pairs = {(i.elder_id, i.service_month) for i in items}
        # the elders as a subquery (a superset: every confirmed order before the month's end)
        budgets = budgets_for(pairs, elders=m.Order.objects.filter(state__in=eo.DONE, checked_out_at__lt=end).values("elder_id"))
        log(f"budgets of {len({p[0] for p in pairs})} elders", 45)
        earlier = {p for p in pairs if p[1] < month}
        used = {}
        if earlier:
            for eid, smonth, s in m.SettlementLine.objects.filter(
                    elder_id__in={e for e, _ in earlier}, service_month__lt=month).values_list(
                    "elder_id", "service_month").annotate(s=Sum("subsidy")).values_list("elder_id", "service_month", "s"):
                used[(eid, smonth)] = s
        lines = es.settle(month, items, budgets, used, corrections)
        log(f"{len(lines)} lines computed", 60)
        with transaction.atomic():
            locked = m.SettlementRun.objects.select_for_update().get(pk=run.pk)
            if locked.status == m.SettlementRun.Status.DONE:
                return locked
            n = write_lines(run, month, lines, lambda p: None)
            total = sum((ln.subsidy for ln in lines), ee.ZERO)
            m.SettlementRun.objects.filter(pk=run.pk).update(
                status=m.SettlementRun.Status.DONE, progress=100, lines=n, subsidy=total, finished=timezone.now())
            audit.record(AuditLog.Action.CREATE, model="homecare.settlementrun", object_id=str(run.pk),
                         object_repr=f"settlement {month:%Y-%m}: {n} lines, {total} yuan", actor=run.created_by,
                         note="homecare.settlement")
        log(f"settled: {n} lines, subsidy {total} yuan", 100)
    except Exception as exc:  # the run row keeps the error for the page; nothing was written
        _update(run.pk, status=m.SettlementRun.Status.FAILED)
        log(f"failed: {exc}\n{traceback.format_exc()[-1500:]}")
        raise
    run.refresh_from_db()
    return run


def month_of_line(c: m.Correction) -> dt.date:
    line = m.SettlementLine.objects.filter(order_id=c.order_id).exclude(kind=es.ADJUSTMENT).first()
    return line.service_month if line else es.month_start(timezone.localtime(c.order.checked_out_at).date())


COLS = ("run_id", "month", "service_month", "kind", "status", "provider_id", "elder_id", "order_id", "correction_id",
        "price", "subsidy", "self_pay", "reason")


def write_lines(run, month, lines, progress) -> int:
    if not lines:
        return 0
    if connection.vendor == "postgresql":
        table = m.SettlementLine._meta.db_table
        with connection.cursor() as cur:
            with cur.connection.cursor().copy(f'COPY "{table}" ({", ".join(COLS)}) FROM STDIN') as copy:
                for ln in lines:
                    copy.write_row((run.pk, month, ln.service_month, ln.kind, ln.status, ln.provider_id, ln.elder_id,
                                    ln.order_id, ln.correction_id, ln.price, ln.subsidy, ln.self_pay, ln.reason))
        return len(lines)
    objs = [m.SettlementLine(run_id=run.pk, month=month, service_month=ln.service_month, kind=ln.kind, status=ln.status,
                             provider_id=ln.provider_id, elder_id=ln.elder_id, order_id=ln.order_id,
                             correction_id=ln.correction_id, price=ln.price, subsidy=ln.subsidy, self_pay=ln.self_pay,
                             reason=ln.reason) for ln in lines]
    m.SettlementLine.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


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

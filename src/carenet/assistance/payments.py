"""Payments in one place: entitlements, the one restate loop (new standards, age tiers), and the bank file.

The monthly payroll itself is the job in jobs.py; services.start_payroll schedules it.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum

from carenet.assistance import adapter
from carenet.assistance import models as m
from carenet.assistance.adapter import (all_rules, assess, load_engine_entitlements, path_codes, rules_for,
                                        township_of)
from carenet.assistance.engine import eligibility as elig
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import rules as erules
from carenet.assistance.engine import workflow as ewf
from carenet.core import audit, exports
from carenet.core.models import AuditLog
from carenet.core.scoping import subtree_q

def restate_for_standard(user, row: m.Standard) -> tuple[int, list[int]]:
    """After a new standard row: add 标准调整 changes to the entitlements of paying cases in the row's
    division from the row's date on (never earlier), using the engine's ``restate``. Cases that would no
    longer be eligible are not changed automatically: they need a stop decision with written reasons
    (returned, and noted in the audit log)."""
    if row.key in erules.HOMECARE_KEYS:
        return 0, []  # read by the homecare app; no assistance amount depends on it
    cases = m.Case.objects.filter(state__in=[ewf.APPROVED, ewf.PAYING, ewf.RECHECK], entitlement__isnull=False) \
        .filter(subtree_q(row.division.path)) \
        .exclude(program__in=m.ONE_OFF_PROGRAMS).select_related("division", "applicant", "household", "entitlement")
    if row.program != erules.ANY_PROGRAM:
        cases = cases.filter(program=row.program) if row.program not in (erules.DIBAO_URBAN, erules.DIBAO_RURAL) \
            else cases.filter(program__in=[row.program, erules.TEKUN])  # 特困 income test uses the 低保 standard
    restated, needs_decision = 0, []
    rules_cache: dict[int, erules.RuleSet] = {}
    for case in cases:
        rules = rules_cache.get(case.division_id) or rules_cache.setdefault(case.division_id, rules_for(case.division))

        def amount_on(d, case=case, rules=rules):
            outcome = assess(case, d, rules)
            return (outcome.monthly_amount if outcome.eligible else None), max(outcome.persons, 1)

        try:
            restated += restate_entitlement(
                user, case.entitlement, [row.effective_from], amount_on, note="assistance.payment restate",
                reason=f"标准调整 {row.key} {row.effective_from:%Y-%m-%d} {row.source}".strip())
        except epay.NoLongerEligibleError:
            needs_decision.append(case.pk)
            audit.record(AuditLog.Action.UPDATE, case, actor=user, note=f"assistance.standard {row.key}: "
                         "not eligible under the new standard; a stop decision with written reasons is needed")
    return restated, needs_decision


def restate_entitlement(user, ent: m.Entitlement, dates: list[dt.date], amount_on, *, reason: str, note: str) -> int:
    """The one restate loop: the engine's ``restate`` of ``ent`` from each of ``dates`` (amount_on(date) ->
    (monthly amount or None, persons)), and an audited EntitlementChange row for each new change. Raises
    ``epay.NoLongerEligibleError`` (writing nothing) when the beneficiary would no longer qualify."""
    [eng], _ = load_engine_entitlements(m.Entitlement.objects.filter(pk=ent.pk))
    new = epay.restate(eng, dates, amount_on, reason=reason)
    added = 0
    for ch in new.changes[len(eng.changes):]:
        obj = m.EntitlementChange.objects.create(entitlement=ent, effective_month=ch.effective_month,
                                                 monthly_amount=ch.monthly_amount, persons=ch.persons,
                                                 reason=ch.reason, created_by=user)
        audit.record(AuditLog.Action.CREATE, obj, actor=user, division_path=ent.division.path,
                     after=audit.snapshot(obj), note=note)
        added += 1
    return added


def _beneficiary(case: m.Case) -> str:
    if case.program in m.PERSON_PROGRAMS or not case.household_id:
        return f"r{case.applicant_id}"
    return f"h{case.household_id}"


def create_entitlement(user, case: m.Case, rules: erules.RuleSet, first_aid: bool = False) -> m.Entitlement | None:
    if case.program in m.STATUS_ONLY_PROGRAMS:
        return None
    if m.Entitlement.objects.filter(case=case).exists():
        return None  # paid first (先行救助): the approval completes the paperwork
    approved_on = adapter.today()
    start = epay.payment_start_month(approved_on, rules, path_codes(case.division), case.program)
    if case.program in m.ONE_OFF_PROGRAMS:
        amount = case.grant_amount
        if first_aid:  # 先行救助: paid in this month's payroll
            start = epay.month_of(approved_on)
        stop = epay.add_months(start, 1)
    else:
        amount, stop = case.monthly_amount, None
    if not amount:
        return None
    ent = m.Entitlement(case=case, program=case.program, beneficiary_id=_beneficiary(case), payee=case.applicant,
                        payee_name=case.applicant.name, township=township_of(case.division), division=case.division,
                        monthly_amount=amount, persons=case.persons, start_month=start, stop_month=stop)
    account = (case.facts or {}).get("bank_account", "")
    if account:
        ent.set_bank_account(account)
    ent.save()
    case.next_recheck_on = ewf.next_recheck_due(approved_on, case.recheck_category, rules, path_codes(case.division),
                                                case.program) if case.program not in m.ONE_OFF_PROGRAMS else None
    audit.record(AuditLog.Action.CREATE, ent, actor=user, after=audit.snapshot(ent), note="assistance.entitlement")
    return ent


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


def entitlements_for(run: m.PayrollRun):
    qs = m.Entitlement.objects.filter(area_q(run))
    if run.program != "*":
        qs = qs.filter(program=run.program)
    return qs


def area_q(run: m.PayrollRun, field: str = "township") -> Q:
    return subtree_q(run.area.path, f"{field}__path")


def age_tier_changes(run: m.PayrollRun) -> int:
    """高龄津贴 tiers follow the age: when a beneficiary reaches a higher tier's age on or before the run
    month, add the change with the engine's ``restate`` (from the month after the birthday; idempotent).
    Birthdays in the 12 months up to the run month are looked at (earlier ones were handled by earlier
    runs). A beneficiary who would no longer qualify is left for a written stop decision."""
    if run.program not in ("*", erules.ELDERLY):
        return 0
    month_end = epay.add_months(run.run_month, 1) - dt.timedelta(days=1)
    window_start = epay.add_months(run.run_month, -12)
    rules = all_rules()
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
        path = path_codes(ent.division)
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
                moved += restate_entitlement(run.started_by, ent, dates, amount_on,
                                                      reason="年龄进入高龄津贴新档次", note="assistance.payment age tier")
        except epay.NoLongerEligibleError:
            continue
    return moved


# The bank file: one column definition for the CSV and the Excel file.
BANK_COLUMNS: list[tuple[str, Callable]] = [
    ("序号", lambda i, e, amount, run: i),
    ("收款人", lambda i, e, amount, run: e.payee_name),
    ("身份证号", lambda i, e, amount, run: e.payee.id_number),
    ("银行账号", lambda i, e, amount, run: e.bank_account),
    ("金额（元）", lambda i, e, amount, run: amount),
    ("救助项目", lambda i, e, amount, run: str(dict(m.Program.choices).get(e.program, e.program))),
    ("街道（乡镇）", lambda i, e, amount, run: e.township.name),
    ("社区（村）", lambda i, e, amount, run: e.division.label),
    ("发放月份", lambda i, e, amount, run: f"{run.run_month:%Y-%m}"),
]


def bank_rows(run: m.PayrollRun):
    """Net amount per payee for the run's lines: one bank transfer (or recovery) per entitlement."""
    totals = run.ledger_lines.values("entitlement_id").annotate(amount=Sum("amount")).order_by("entitlement_id")
    ents = {e.pk: e for e in m.Entitlement.objects.filter(pk__in=[t["entitlement_id"] for t in totals])
            .select_related("township", "division", "payee")}
    for t in totals:
        e = ents[t["entitlement_id"]]
        yield e, t["amount"]


def bank_table(run: m.PayrollRun) -> tuple[list[str], list[list]]:
    """The bank file's header and rows (amounts as Decimal)."""
    rows = [[get(i, e, amount, run) for _h, get in BANK_COLUMNS] for i, (e, amount) in enumerate(bank_rows(run), 1)]
    return [h for h, _get in BANK_COLUMNS], rows


def bank_csv(run: m.PayrollRun) -> bytes:
    header, rows = bank_table(run)
    out = io.StringIO()
    w = exports.SafeCsvWriter(out)  # no formulas out of names or accounts (issue 9 §2)
    w.writerow(header)
    for row in rows:
        w.writerow([f"{v:.2f}" if isinstance(v, Decimal) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def bank_xlsx(run: m.PayrollRun) -> bytes:
    from openpyxl import Workbook

    header, rows = bank_table(run)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{run.run_month:%Y-%m}"
    exports.append(ws, header)
    for row in rows:
        exports.append(ws, [float(v) if isinstance(v, Decimal) else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


"""Monthly payroll arithmetic: entitlements + the ledger of paid lines -> the lines due.

Principles (see docs/assistance-rules.md):

* A month is a ``date`` on the 1st (``month_of(d)``).
* An ``Entitlement`` says what is owed per month: a base amount from
  ``start_month`` (the month after approval, 浙江 Art. 56), ``AmountChange``
  rows from their effective month, nothing from ``stop_month`` on.
* The ledger is append-only. ``compute_month`` compares, for every period up
  to the run month, what is owed with what the ledger already holds for that
  period and emits only the difference:
    - ``normal``    the run month's own payment, first time;
    - ``back_pay``  (补发) owed more than paid for a period;
    - ``recovery``  (追回) paid more than owed (negative amount).
  Paid lines are never edited. Running the same month twice after persisting
  the first run's lines produces no lines (idempotent).
* A change dated in the future only changes the periods from its effective
  month; earlier periods keep their amounts.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Sequence

from .money import ZERO, wan, yuan
from .rules import PROGRAM_LABELS_ZH, RuleSet

NORMAL, BACK_PAY, RECOVERY = "normal", "back_pay", "recovery"
KIND_LABELS_ZH = {NORMAL: "正常发放", BACK_PAY: "补发", RECOVERY: "追回"}


def month_of(d: date) -> date:
    return d if d.day == 1 else d.replace(day=1)


def add_months(m: date, n: int) -> date:
    y, mm = divmod(m.month - 1 + n, 12)
    return date(m.year + y, mm + 1, 1)


def months_between(a: date, b: date) -> int:
    """Number of months from month a to month b (b - a)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def effective_month_for(d: date) -> date:
    """A change dated on the 1st applies from that month, otherwise from the next month."""
    return d if d.day == 1 else add_months(month_of(d), 1)


def payment_start_month(approved_on: date, rules: RuleSet, division_path: Sequence[str], program: str) -> date:
    """First month paid: the month of approval plus ``payment_start_offset_months`` (1 by default)."""
    offset = int(rules.value("payment_start_offset_months", program, tuple(division_path), approved_on, default=1))
    return add_months(month_of(approved_on), offset)


@dataclass(frozen=True)
class AmountChange:
    effective_month: date
    monthly_amount: Decimal
    persons: int | None = None  # None = unchanged
    reason: str = ""


@dataclass(frozen=True)
class Entitlement:
    entitlement_id: str
    beneficiary_id: str  # household for 低保, person for 特困/高龄津贴
    program: str
    township_code: str
    monthly_amount: Decimal
    persons: int
    start_month: date
    stop_month: date | None = None  # first month NOT paid
    changes: tuple[AmountChange, ...] = ()

    def schedule(self) -> tuple[list[date], list[tuple[Decimal, int]]]:
        """Sorted change months and (amount, persons) in force from each."""
        months = [month_of(self.start_month)]
        values = [(yuan(self.monthly_amount), self.persons)]
        for c in sorted(self.changes, key=lambda c: c.effective_month):
            m = month_of(c.effective_month)
            persons = c.persons if c.persons is not None else values[-1][1]
            if m <= months[0]:
                values[0] = (yuan(c.monthly_amount), persons)
                continue
            if m == months[-1]:
                values[-1] = (yuan(c.monthly_amount), persons)
            else:
                months.append(m)
                values.append((yuan(c.monthly_amount), persons))
        return months, values

    def due_for(self, period: date) -> tuple[Decimal, int]:
        """(amount, persons) owed for ``period``; (0, 0) outside [start_month, stop_month)."""
        period = month_of(period)
        if period < month_of(self.start_month) or (self.stop_month is not None and period >= month_of(self.stop_month)):
            return ZERO, 0
        months, values = self.schedule()
        return values[bisect.bisect_right(months, period) - 1]

    def with_change(self, change: AmountChange) -> "Entitlement":
        return replace(self, changes=self.changes + (change,))


@dataclass(frozen=True)
class LedgerLine:
    entitlement_id: str
    beneficiary_id: str
    program: str
    township_code: str
    period: date  # the month the money is for
    run_month: date  # the payroll month that produced the line
    kind: str  # normal | back_pay | recovery
    amount: Decimal  # negative for recovery
    persons: int
    note: str = ""

    @property
    def key(self) -> tuple:
        """Natural key; the Django side should make it unique."""
        return (self.entitlement_id, self.period, self.run_month, self.kind)


@dataclass(frozen=True)
class PayrollRun:
    run_month: date
    lines: tuple[LedgerLine, ...]
    entitlements_checked: int
    periods_checked: int

    @property
    def total(self) -> Decimal:
        return yuan(sum((l.amount for l in self.lines), ZERO))


def index_ledger(ledger: Iterable[LedgerLine]) -> dict[str, dict[date, Decimal]]:
    """entitlement_id -> period -> amount already paid (all kinds, net)."""
    idx: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for line in ledger:
        per = idx[line.entitlement_id]
        per[line.period] = per.get(line.period, ZERO) + line.amount
    return idx


def compute_month(entitlements: Iterable[Entitlement], ledger: Iterable[LedgerLine] | Mapping[str, Mapping[date, Decimal]],
                  run_month: date, *, reconcile_from: date | None = None) -> PayrollRun:
    """Lines due in ``run_month``.

    ``ledger`` is every line already persisted for these entitlements (or an
    ``index_ledger`` result). ``reconcile_from`` limits the look-back for speed
    (periods before it are assumed settled); by default every period since
    the entitlement's start month is reconciled.
    """
    run_month = month_of(run_month)
    paid_idx = ledger if isinstance(ledger, Mapping) else index_ledger(ledger)
    out: list[LedgerLine] = []
    n_ent = n_per = 0
    floor = month_of(reconcile_from) if reconcile_from else None
    empty: Mapping[date, Decimal] = {}
    for e in entitlements:
        n_ent += 1
        paid = paid_idx.get(e.entitlement_id, empty)
        start = month_of(e.start_month)
        stop = month_of(e.stop_month) if e.stop_month else None
        months, values = e.schedule()
        first = start if floor is None else max(start, floor)
        last = run_month if stop is None else min(run_month, add_months(stop, -1))
        # owed periods
        m = first
        i = bisect.bisect_right(months, m) - 1
        while m <= last:
            while i + 1 < len(months) and months[i + 1] <= m:
                i += 1
            amount, persons = values[i]
            have = paid.get(m)
            n_per += 1
            if have is None:
                if amount:
                    kind = NORMAL if m == run_month else BACK_PAY
                    out.append(LedgerLine(e.entitlement_id, e.beneficiary_id, e.program, e.township_code, m,
                                          run_month, kind, amount, persons))
            elif have != amount:
                diff = amount - have
                out.append(LedgerLine(e.entitlement_id, e.beneficiary_id, e.program, e.township_code, m, run_month,
                                      BACK_PAY if diff > 0 else RECOVERY, diff, persons))
            m = add_months(m, 1)
        # paid periods that are no longer owed (retroactive stop, or start moved later)
        for period, have in paid.items():
            if have and period <= run_month and (period < start or (stop is not None and period >= stop)) \
                    and (floor is None or period >= floor):
                n_per += 1
                out.append(LedgerLine(e.entitlement_id, e.beneficiary_id, e.program, e.township_code, period,
                                      run_month, RECOVERY, -have, 0, "not owed"))
    out.sort(key=lambda l: (l.township_code, l.program, l.beneficiary_id, l.period, l.kind))
    return PayrollRun(run_month, tuple(out), n_ent, n_per)


# ------------------------------------------------------------------ restating after a standard change

class NoLongerEligibleError(ValueError):
    """A standard change would end the entitlement; that needs a workflow decision."""


def restate(entitlement: Entitlement, change_dates: Iterable[date],
            amount_on: Callable[[date], tuple[Decimal, int]], reason: str = "标准调整") -> Entitlement:
    """Add ``AmountChange`` rows for standard changes.

    ``change_dates`` are dates on which a rule changes (``RuleSet.change_dates``);
    ``amount_on(d)`` recomputes (amount, persons) with the rules in force on d
    (usually an eligibility function). Each change applies from
    ``effective_month_for(d)``; earlier months are untouched.
    """
    e = entitlement
    for d in sorted(change_dates):
        m = effective_month_for(d)
        if e.stop_month is not None and m >= month_of(e.stop_month):
            continue
        amount, persons = amount_on(d)
        if amount is None:
            raise NoLongerEligibleError(
                f"{e.entitlement_id} is not eligible under the rules of {d.isoformat()}: "
                "a stop (停发) decision with a written reason is needed, not an automatic change")
        amount = yuan(amount)
        if e.due_for(max(m, month_of(e.start_month))) != (amount, persons):
            e = e.with_change(AmountChange(m, amount, persons, reason))
    return e


# ------------------------------------------------------------------ summaries

PERSON_PROGRAMS = frozenset({"tekun", "elderly_allowance"})  # beneficiary is a person, not a household
DEFAULT_PROGRAM_GROUPS = {"dibao_urban": "dibao", "dibao_rural": "dibao"}
GROUP_LABELS_ZH = dict(PROGRAM_LABELS_ZH, dibao="城乡低保")


@dataclass(frozen=True)
class Summary:
    program: str
    township_code: str | None
    households: int
    persons: int
    amount: Decimal

    def zh(self, label: str | None = None) -> str:
        """e.g. "城乡低保1964户3276人, 累计发放资金1496.38万" (person-based programs: "…人" only)."""
        label = label or GROUP_LABELS_ZH.get(self.program, self.program)
        if self.program in PERSON_PROGRAMS:
            return f"{label}{self.persons}人, 累计发放资金{wan(self.amount)}万"
        return f"{label}{self.households}户{self.persons}人, 累计发放资金{wan(self.amount)}万"


def summarize(lines: Iterable[LedgerLine], *, by_township: bool = True,
              program_groups: Mapping[str, str] | None = DEFAULT_PROGRAM_GROUPS) -> list[Summary]:
    """Households, persons and net amount per program (group) and township.

    households = distinct beneficiaries that received a positive line;
    persons = for each of them, the persons on their latest positive line;
    amount = net sum of all lines (recoveries subtract).
    """
    groups = program_groups or {}
    amount: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    latest: dict[tuple, dict[str, tuple[date, int]]] = defaultdict(dict)
    for l in lines:
        k = (groups.get(l.program, l.program), l.township_code if by_township else None)
        amount[k] += l.amount
        if l.amount > 0:
            seen = latest[k].get(l.beneficiary_id)
            if seen is None or l.period >= seen[0]:
                latest[k][l.beneficiary_id] = (l.period, l.persons)
    out = []
    for k in sorted(amount, key=lambda k: (k[0], k[1] or "")):
        bens = latest.get(k, {})
        out.append(Summary(k[0], k[1], len(bens), sum(p for _, p in bens.values()), yuan(amount[k])))
    return out


@dataclass(frozen=True)
class Adjustment:
    program: str
    township_code: str | None
    added_households: int
    added_persons: int
    stopped_households: int
    stopped_persons: int

    def zh(self, label: str | None = None) -> str:
        label = label or GROUP_LABELS_ZH.get(self.program, self.program)
        return (f"{label}新增{self.added_households}户{self.added_persons}人，"
                f"停保{self.stopped_households}户{self.stopped_persons}人")


def dynamic_adjustments(entitlements: Iterable[Entitlement], month: date, *, by_township: bool = True,
                        program_groups: Mapping[str, str] | None = DEFAULT_PROGRAM_GROUPS) -> list[Adjustment]:
    """动态调整: households/persons whose payment starts in ``month`` (added)
    and whose payment stops from ``month`` (stopped: ``stop_month == month``)."""
    month = month_of(month)
    groups = program_groups or {}
    added: dict[tuple, dict[str, int]] = defaultdict(dict)
    stopped: dict[tuple, dict[str, int]] = defaultdict(dict)
    for e in entitlements:
        k = (groups.get(e.program, e.program), e.township_code if by_township else None)
        if month_of(e.start_month) == month:
            added[k][e.beneficiary_id] = e.due_for(month)[1]
        if e.stop_month is not None and month_of(e.stop_month) == month and month_of(e.start_month) < month:
            stopped[k][e.beneficiary_id] = e.due_for(add_months(month, -1))[1]
    keys = sorted(set(added) | set(stopped), key=lambda k: (k[0], k[1] or ""))
    return [Adjustment(k[0], k[1], len(added[k]), sum(added[k].values()), len(stopped[k]), sum(stopped[k].values()))
            for k in keys]


__all__ = [
    "NORMAL", "BACK_PAY", "RECOVERY", "KIND_LABELS_ZH", "AmountChange", "Entitlement", "LedgerLine", "PayrollRun",
    "compute_month", "index_ledger", "restate", "NoLongerEligibleError", "summarize", "Summary", "dynamic_adjustments", "Adjustment",
    "month_of", "add_months", "months_between", "effective_month_for", "payment_start_month",
]

"""Monthly settlement against each elder's entitlement.

A month is settled once. Every confirmed order becomes exactly one line, in the month it is settled:
an order of the month itself is a ``service`` line; an order of an already settled month (confirmed
late) is a ``late`` line of the next open month, still charged against its own month's budget.
A correction to a settled line (a dispute resolved, a line found wrong) is an ``adjustment`` line of the
next open month with the difference; the settled month never changes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping

ZERO = Decimal("0.00")

ACCEPTED, DISPUTED, REJECTED = "accepted", "disputed", "rejected"
SERVICE, LATE, ADJUSTMENT = "service", "late", "adjustment"


@dataclass(frozen=True, slots=True)
class Item:
    order_id: int
    elder_id: int
    provider_id: int
    service_month: date          # first day of the month the service was checked out in
    at: object                   # ordering key within the elder's month (check-out time)
    price: Decimal
    planned_subsidy: Decimal     # the split recorded on the order (the rest is self-paid with consent)
    status: str = ACCEPTED       # DISPUTED (open anomaly) or REJECTED (anomaly upheld), with reason
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Correction:
    correction_id: int
    order_id: int
    elder_id: int
    provider_id: int
    service_month: date
    delta: Decimal               # + pay more, − claw back
    reason: str


@dataclass(frozen=True, slots=True)
class Line:
    kind: str
    status: str
    order_id: int | None
    correction_id: int | None
    elder_id: int
    provider_id: int
    service_month: date
    price: Decimal
    subsidy: Decimal
    self_pay: Decimal
    reason: str


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def cents(v: Decimal | int) -> int:
    """Yuan as integer cents (fen), the unit of the tuple engine."""
    return int((Decimal(v) * 100).to_integral_value())


def yuan(c: int) -> Decimal:
    return Decimal(c).scaleb(-2)


def settle_elder(month: date, items: Iterable[tuple], budgets: Mapping[date, int],
                 used: Mapping[date, int] | None = None) -> list[tuple]:
    """The engine over plain tuples, one elder at a time, amounts in integer cents: the shape the monthly job
    feeds a million orders through. ``items`` are ``(order_id, provider_id, service_month, price,
    planned_subsidy, status, reason)`` in the elder's order (service month, check-out time, order id);
    ``budgets[service_month]`` the elder's monthly budget, ``used[service_month]`` what earlier settlements
    already paid for it. Ids are passed through untouched. Returns one line per item:
    ``(kind, status, order_id, provider_id, service_month, price, subsidy, self_pay, reason)``."""
    lines: list[tuple] = []
    spent: dict[date, int] = {}
    for oid, pid, smonth, price, planned, status, reason in items:
        if smonth != month:
            if smonth > month:
                raise ValueError(f"order {oid} belongs to a later month")
            kind = LATE
        else:
            kind = SERVICE
        if status != ACCEPTED:
            lines.append((kind, status, oid, pid, smonth, price, 0, 0, reason))
            continue
        remaining = budgets.get(smonth, 0) - (used.get(smonth, 0) if used else 0) - spent.get(smonth, 0)
        if planned <= remaining:
            subsidy, reason = planned, ""
        else:
            remaining = max(0, remaining)
            subsidy = remaining
            reason = f"月度额度不足：计划补贴 {yuan(planned)} 元，可用 {yuan(remaining)} 元，按 {yuan(subsidy)} 元结算"
        spent[smonth] = spent.get(smonth, 0) + subsidy
        lines.append((kind, ACCEPTED, oid, pid, smonth, price, subsidy, price - planned, reason))
    return lines


def settle(month: date, items: Iterable[Item], budgets: Mapping[tuple[int, date], Decimal],
           used: Mapping[tuple[int, date], Decimal] | None = None,
           corrections: Iterable[Correction] = ()) -> list[Line]:
    """Lines for ``month``. ``budgets[(elder, service_month)]`` is the elder's monthly budget;
    ``used[(elder, service_month)]`` the subsidy already paid for that month by earlier settlements.
    The same arithmetic as ``settle_elder`` (which it calls per elder), over objects and Decimals."""
    month = month_start(month)
    used = used or {}
    lines: list[Line] = []
    ordered = sorted(items, key=lambda i: (i.elder_id, i.service_month, i.at, i.order_id))
    i = 0
    while i < len(ordered):
        elder = ordered[i].elder_id
        j = i
        while j < len(ordered) and ordered[j].elder_id == elder:
            j += 1
        mine = ordered[i:j]
        months = {it.service_month for it in mine}
        out = settle_elder(month, [(it.order_id, it.provider_id, it.service_month, cents(it.price),
                                    cents(it.planned_subsidy), it.status, it.reason) for it in mine],
                           {mo: cents(budgets.get((elder, mo), ZERO)) for mo in months},
                           {mo: cents(used.get((elder, mo), ZERO)) for mo in months})
        lines.extend(Line(kind, status, oid, None, elder, pid, smonth, yuan(price), yuan(subsidy), yuan(self_pay), why)
                     for kind, status, oid, pid, smonth, price, subsidy, self_pay, why in out)
        i = j
    for c in sorted(corrections, key=lambda c: c.correction_id):
        if c.service_month >= month:
            raise ValueError(f"correction {c.correction_id} is for month {c.service_month}, not an earlier one")
        lines.append(Line(ADJUSTMENT, ACCEPTED, c.order_id, c.correction_id, c.elder_id, c.provider_id,
                          c.service_month, ZERO, c.delta, ZERO, c.reason))
    return lines


@dataclass
class Totals:
    lines: int = 0
    accepted: int = 0
    disputed: int = 0
    rejected: int = 0
    adjustments: int = 0
    subsidy: Decimal = ZERO
    self_pay: Decimal = ZERO


def totals_by_provider(lines: Iterable[Line]) -> dict[int, Totals]:
    out: dict[int, Totals] = defaultdict(Totals)
    for ln in lines:
        t = out[ln.provider_id]
        t.lines += 1
        t.subsidy += ln.subsidy
        t.self_pay += ln.self_pay
        if ln.kind == ADJUSTMENT:
            t.adjustments += 1
        elif ln.status == ACCEPTED:
            t.accepted += 1
        elif ln.status == DISPUTED:
            t.disputed += 1
        else:
            t.rejected += 1
    return dict(out)


def correction_for(settled_subsidy: Decimal, corrected_subsidy: Decimal) -> Decimal:
    """The adjustment a correction needs: what should have been paid minus what was paid (and adjusted)."""
    return corrected_subsidy - settled_subsidy

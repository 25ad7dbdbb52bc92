"""Monthly service budgets and over-budget handling.

An elder's budget is the largest monthly amount among the categories the elder belongs to (categories do
not add up: one elder, one budget). The amounts per category are a dated standard
(``homecare_budget_monthly``), resolved by the caller for the elder's division and the month; the
resolved provenance travels with the figure so that every amount explains itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

REFUSE = "refuse"
SELF_PAY = "self_pay"
OVER_BUDGET_POLICIES = (REFUSE, SELF_PAY)


def money(v: object) -> Decimal:
    return Decimal(str(v)).quantize(CENT)


@dataclass(frozen=True)
class Budget:
    amount: Decimal
    category: str | None          # the category that gives the amount (None: not eligible)
    considered: tuple[tuple[str, Decimal], ...] = ()
    source: str = ""              # the standard's provenance, e.g. "340899000000 from 2026-01-01"

    def explain(self) -> str:
        if self.category is None:
            return "不属于政府购买服务对象，月度额度 0 元"
        parts = "、".join(f"{c} {a} 元" for c, a in self.considered)
        return f"月度额度 {self.amount} 元：取所属类别中最高者（{parts}）{('；标准 ' + self.source) if self.source else ''}"


def budget_for(categories: Iterable[str], table: Mapping[str, Decimal], source: str = "") -> Budget:
    """The monthly budget of an elder in `categories` under `table` (category -> yuan per month)."""
    considered = tuple((c, money(table[c])) for c in sorted(set(categories)) if c in table)
    if not considered:
        return Budget(ZERO, None, (), source)
    category, amount = max(considered, key=lambda p: (p[1], p[0]))
    return Budget(amount, category, considered, source)


@dataclass(frozen=True)
class Balance:
    budget: Budget
    used: Decimal        # subsidy of confirmed (or settled) services this month
    reserved: Decimal    # subsidy held by open orders this month
    lines: tuple[str, ...] = field(default=())

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.budget.amount - self.used - self.reserved)

    def explain(self) -> list[str]:
        return [self.budget.explain(), f"本月已用 {self.used} 元", f"在途订单预占 {self.reserved} 元",
                f"剩余 {self.remaining} 元 = {self.budget.amount} − {self.used} − {self.reserved}", *self.lines]


def balance(budget: Budget, used: Iterable[Decimal] = (), reserved: Iterable[Decimal] = ()) -> Balance:
    return Balance(budget, money(sum(used, ZERO)), money(sum(reserved, ZERO)))


class OverBudget(Exception):
    """The order costs more than the remaining balance and cannot be accepted as it is."""

    def __init__(self, code: str, remaining: Decimal, price: Decimal):
        super().__init__(code)
        self.code, self.remaining, self.price = code, remaining, price


@dataclass(frozen=True)
class Split:
    subsidy: Decimal     # paid from the government budget
    self_pay: Decimal    # paid by the elder (自费)
    explanation: str


def split(price: Decimal, remaining: Decimal, *, policy: str, consent: bool) -> Split:
    """How an order's price is paid. Within the balance: all subsidised. Over it: refused under the
    ``refuse`` policy; under ``self_pay`` the elder pays the difference, only with recorded consent."""
    price, remaining = money(price), money(max(remaining, ZERO))
    if policy not in OVER_BUDGET_POLICIES:
        raise ValueError(f"unknown over-budget policy {policy!r}")
    if price <= remaining:
        return Split(price, ZERO, f"{price} 元全部由补贴额度支付（剩余 {remaining} 元）")
    if policy == REFUSE:
        raise OverBudget("refused", remaining, price)
    if not consent:
        raise OverBudget("consent_needed", remaining, price)
    own = price - remaining
    return Split(remaining, own, f"补贴 {remaining} 元（额度用尽），自费 {own} 元（老人已同意）")

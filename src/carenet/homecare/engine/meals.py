"""Meal subsidies at meal points (助餐点): the subsidy by the elder's category, the elder's share, and the
daily capacity. The subsidy table (category -> yuan per meal) is a dated standard resolved by the caller."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MealSplit:
    price: Decimal
    subsidy: Decimal
    share: Decimal           # what the elder pays
    category: str | None

    def explain(self) -> str:
        if self.category is None:
            return f"每餐 {self.price} 元，非补贴对象，自付 {self.share} 元"
        return f"每餐 {self.price} 元，{self.category} 补贴 {self.subsidy} 元，自付 {self.share} 元"


def split(price: Decimal, categories: Iterable[str], table: Mapping[str, Decimal]) -> MealSplit:
    """The highest subsidy among the elder's categories, never more than the price."""
    price = Decimal(price).quantize(CENT)
    if price < 0:
        raise ValueError("price must not be negative")
    hits = [(Decimal(table[c]).quantize(CENT), c) for c in sorted(set(categories)) if c in table]
    if not hits:
        return MealSplit(price, ZERO, price, None)
    amount, cat = max(hits)
    subsidy = min(amount, price)
    return MealSplit(price, subsidy, price - subsidy, cat)


def capacity_left(capacity: int, served_today: int) -> int | None:
    """Meals still available today; None when the point has no capacity limit (0)."""
    if capacity <= 0:
        return None
    return max(0, capacity - served_today)


SERVICE, LATE = "service", "late"


@dataclass(frozen=True)
class MealRow:
    facility_id: int
    service_month: date      # first day of the meal's month
    kind: str                # dine_in / delivered
    price: Decimal
    subsidy: Decimal
    share: Decimal


@dataclass
class MealLine:
    facility_id: int
    service_month: date
    kind: str                # SERVICE: the month's own meals; LATE: an earlier month's meals recorded late
    meals: int = 0
    dine_in: int = 0
    delivered: int = 0
    price: Decimal = ZERO
    subsidy: Decimal = ZERO
    share: Decimal = ZERO


def settle_month(month: date, rows: Iterable[MealRow]) -> list[MealLine]:
    """One line per (meal point, service month) for the settlement of ``month``: the month's meals, and the
    meals of earlier months not yet settled (recorded after their month's run) as late lines."""
    month = month.replace(day=1)
    lines: dict[tuple[int, date], MealLine] = {}
    for r in rows:
        if r.service_month > month:
            raise ValueError(f"a meal of {r.service_month} cannot be settled in {month}")
        key = (r.facility_id, r.service_month)
        ln = lines.get(key)
        if ln is None:
            ln = lines[key] = MealLine(r.facility_id, r.service_month, SERVICE if r.service_month == month else LATE)
        ln.meals += 1
        if r.kind == "delivered":
            ln.delivered += 1
        else:
            ln.dine_in += 1
        ln.price += r.price
        ln.subsidy += r.subsidy
        ln.share += r.share
    return [lines[k] for k in sorted(lines)]

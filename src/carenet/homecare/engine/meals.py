"""Meal subsidies at meal points (助餐点): the subsidy by the elder's category, the elder's share, and the
daily capacity. The subsidy table (category -> yuan per meal) is a dated standard resolved by the caller."""
from __future__ import annotations

from dataclasses import dataclass
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

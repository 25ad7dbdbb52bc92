"""Money helpers: every amount is a ``Decimal`` in yuan.

Rounding policy (documented in docs/assistance-rules.md):

* Intermediate arithmetic keeps full ``Decimal`` precision.
* A value is rounded to the fen (0.01 yuan) with ``ROUND_HALF_UP`` (四舍五入)
  at the points where it is shown to a person or paid: per-capita income,
  each monthly amount, each grant, each payroll line.
* A computed amount is rounded once, at the end, never built from rounded parts:
  the 低保 difference is standard × size − household income (the same as
  (standard − per-capita income) × size), so 3 people with 620 yuan against a
  1000-yuan standard get 2380.00, not (1000 − 206.67) × 3 = 2379.99. The
  per-capita income shown to the applicant is rounded for display and for the
  eligibility test only.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
TEN_THOUSAND = Decimal("10000")


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert int/str/Decimal to Decimal. Floats are refused: they carry binary error."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("bool is not money")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {value!r}") from exc
    raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")


def yuan(value: Decimal | int | str) -> Decimal:
    """Round to 0.01 yuan, half up."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def fmt(value: Decimal | int | str) -> str:
    """Format as a plain 2-dp string, e.g. ``Decimal('512') -> '512.00'``."""
    return f"{yuan(value):.2f}"


def wan(value: Decimal | int | str) -> str:
    """Format an amount in 万元 with 2 dp, e.g. 14963800 -> '1496.38'."""
    return f"{(to_decimal(value) / TEN_THOUSAND).quantize(FEN, rounding=ROUND_HALF_UP):.2f}"

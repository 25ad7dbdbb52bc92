"""Pairing (结对帮扶, 包保): is a pairing keeping its minimum contact frequency?"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable


def behind(contacts: Iterable[date], minimum_per_month: int, today: date) -> int:
    """How many contacts short the pairing is over the last 30 days (0 = on track)."""
    since = today - timedelta(days=30)
    n = sum(1 for d in contacts if since < d <= today)
    return max(0, minimum_per_month - n)

"""Spreadsheet exports that cannot carry formulas (CSV/formula injection, OWASP).

A cell whose text starts with = + - @ (or a tab or carriage return, which some spreadsheet programs skip before
reading a formula) is run as a formula by Excel, WPS and LibreOffice: an elder named `=HYPERLINK(...)` would
become a live link in the exported roster or in the bank file. Every xlsx and csv export writes its rows through
`safe_row` (or `append` / `SafeCsvWriter`), which puts an apostrophe before such text, so it is shown as typed
and never evaluated. Plain numbers (`-12.50`, a recovery in the bank file) are left alone: they cannot be formulas.
A test checks that every module writing xlsx or csv imports this one.
"""
from __future__ import annotations

import csv
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value):
    """The value to write: text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row) -> list:
    return [safe_cell(v) for v in row]


def append(ws, row) -> None:
    """`ws.append(row)` for an openpyxl worksheet, with every cell neutralised."""
    ws.append(safe_row(row))


class SafeCsvWriter:
    """csv.writer whose rows are neutralised."""

    def __init__(self, out, **kwargs):
        self._w = csv.writer(out, **kwargs)

    def writerow(self, row):
        return self._w.writerow(safe_row(row))

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)

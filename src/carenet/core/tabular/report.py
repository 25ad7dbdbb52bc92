"""The downloadable report of rejected rows. ID numbers are masked in every cell, whatever column they are in."""
from __future__ import annotations

import io
import re

from carenet.core import idcard

# Anything that looks like an ID number (18 characters, or what Excel left of one) inside free text.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{15,17}[0-9Xx]?(?![0-9A-Za-z])|\d(\.\d+)?[Ee]\+\d{2}")


# Text a spreadsheet would run as a formula (an uploaded cell "=HYPERLINK(...)") is written with an apostrophe:
# the one shared guard, core.exports (pure Python, no Django).
from carenet.core import exports  # noqa: E402


def mask_text(text: str) -> str:
    return _ID_LIKE.sub(lambda m: idcard.mask(m.group(0)) if "E" not in m.group(0).upper() else "****", text or "")


def rejects_xlsx(schema, rows) -> bytes:
    """One line per rejected row: sheet, row number, reasons, then the row's cells as read (IDs masked)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "未导入行"
    exports.append(ws, ["工作表", "行号", "错误原因", *schema.labels])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for row in rows:
        if row.ok:
            continue
        cells = []
        for col in schema.columns:
            raw = row.raw.get(col.key, "")
            cells.append(idcard.mask(raw) if col.masked and raw else mask_text(raw))
        exports.append(ws, [row.sheet, row.number, mask_text("；".join(row.errors)), *cells])
        ws.cell(ws.max_row, 3).fill = fill
    ws.column_dimensions["C"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

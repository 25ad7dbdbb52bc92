"""One Excel export for every staff list (#18): the list's own filtered rows, masked, audited, formula-safe.

A list view answers `?format=xlsx` with the same query it shows, unpaginated:

    if list_export.wanted(request):
        return list_export.xlsx_response(request.user, title=_("Assistance cases"), model="assistance.case",
                                         headers=[...], rows=(row(c) for c in qs))

and its template includes `core/_export_button.html` (the button keeps the list's filters). Rows must already be
what the user may see: ID numbers masked (`id_masked`), names of people outside the area never included, because
the queryset is the list's own `visible_to(user)` query. Every export leaves an EXPORT audit row with the list,
the filters and the row count. Cells go through `core.exports` so nothing typed can run as a formula.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from carenet.core import audit, exports
from carenet.core.models import AuditLog

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200_000        # a district's largest list (the ledger of a year) fits; beyond that, narrow the filters


def wanted(request) -> bool:
    return request.GET.get("format") == "xlsx"


def cell(value):
    """A value as a spreadsheet shows it: local times, plain numbers, no None."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, (int, float)) else str(value)


def workbook_bytes(title: str, headers: list[str], rows: Iterable[list]) -> tuple[bytes, int]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    exports.append(ws, [str(h) for h in headers])
    n = 0
    for row in rows:
        if n >= MAX_ROWS:
            break
        exports.append(ws, [cell(v) for v in row])
        n += 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), n


def xlsx_response(user, *, title: str, model: str, headers: list[str], rows: Iterable[list],
                  filters: dict | None = None) -> HttpResponse:
    data, n = workbook_bytes(str(title), headers, rows)
    shown = {k: v for k, v in (filters or {}).items() if v not in ("", None, False)}
    filters_text = " ".join(f"{k}={v}" for k, v in shown.items())
    audit.record(AuditLog.Action.EXPORT, actor=user, model=model, note=f"rows={n} {filters_text}".strip(),
                 division_path=user.division.path if getattr(user, "division_id", None) else "")
    response = HttpResponse(data, content_type=XLSX)
    name = f"{title}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(name)}"
    return response

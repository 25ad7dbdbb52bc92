"""Excel export of elders. (The import runs on the shared pipeline: people/importers.py, core/imports.py.)"""
from __future__ import annotations

import io

from openpyxl import Workbook

from carenet.core import audit
from carenet.core.exports import append as xlsx_append  # no formulas out of what people typed
from carenet.core.models import AuditLog
from carenet.people.importers import CARE, CATEGORY, LIVING, SCHEMA

COLUMNS = SCHEMA.labels  # the export reads back in through the import unchanged
LIVING_LABEL = {v: k for k, v in LIVING.items()}
CARE_LABEL = {v: k for k, v in CARE.items()}
CATEGORY_LABEL = {v: k for k, v in CATEGORY.items()}


def export(elders, user) -> bytes:
    """The elders a user can see, with masked ID numbers. The export itself is audited."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("老人名册")
    xlsx_append(ws, COLUMNS)
    n = 0
    for e in elders.prefetch_related("categories", "contacts"):
        r = e.resident
        first = next(iter(e.contacts.all()), None)
        xlsx_append(ws, [r.name, "男" if r.sex == "M" else "女", r.id_masked, r.birth_date.isoformat(), r.phone, r.address,
                   r.division.code, LIVING_LABEL.get(e.living, ""), CARE_LABEL.get(e.care_level, ""),
                   "、".join(CATEGORY_LABEL.get(c.code, c.code) for c in e.categories.all()),
                   first.name if first else "", first.relation if first else "", first.phone if first else ""])
        n += 1
    audit.record(AuditLog.Action.EXPORT, actor=user, model="people.elderprofile", note=f"rows={n}",
                 division_path=user.division.path if user.division_id else "")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

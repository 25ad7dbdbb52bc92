"""Home-care providers and helpers (homecare.imports) on the shared pipeline."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from carenet.core import imports
from carenet.core.models import AuditLog
from carenet.core.roles import Role
from carenet.homecare import models as m
from tests import spreadsheets as fx
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _reasons(run) -> dict[int, str]:
    sheet = load_workbook(io.BytesIO(bytes(run.report))).active
    return {r[1]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def catalogue(db):
    for code, name in (("meal", "助餐"), ("clean", "助洁"), ("bath", "助浴")):
        m.ServiceType.objects.create(code=code, name=name, price=Decimal("30"))


def test_providers_then_helpers_from_the_files_bureaus_keep(area, catalogue):
    run = imports.import_file(imports.get("homecare.providers"), fx.providers_register()[1], "名录.csv", area.admin)
    assert (run.status, run.accepted, run.rejected) == ("done", 1, 1)
    assert "合同结束日期（2026-01-01）早于开始日期（2026-06-01）" in _reasons(run)[3]
    provider = m.Provider.objects.get()
    assert provider.name == "安康居家养老服务有限公司" and provider.division == area.street1
    assert (provider.contract_start, provider.contract_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert set(provider.areas.all()) == {area.comm_a, area.comm_b}
    audit = AuditLog.objects.get(model="homecare.provider")
    assert audit.action == "create" and audit.after["areas"] == sorted([area.comm_a.pk, area.comm_b.pk])

    run = imports.import_file(imports.get("homecare.helpers"), fx.helpers_register()[1], "花名册.xlsx", area.admin)
    assert (run.accepted, run.rejected) == (2, 2)
    reasons = _reasons(run)
    assert "服务技能“按摩”不在服务项目目录中" in reasons[4]
    assert "服务商“未登记服务社”不存在或不在您的管辖范围内" in reasons[5]
    helpers = {h.name: h for h in m.Helper.objects.all()}
    # 所属服务商 is merged down over three rows: 李助二 gets it too.
    assert helpers["李助二"].provider == provider and helpers["李助二"].division == area.comm_b
    assert {s.code for s in helpers["李助一"].skills.all()} == {"meal", "clean"}
    assert helpers["李助一"].certificates == "养老护理员（四级）" and helpers["李助一"].phone == "13800000001"
    assert AuditLog.objects.filter(model="homecare.helper", action="create").count() == 2

    again = imports.import_file(imports.get("homecare.helpers"), fx.helpers_register()[1], "花名册.xlsx", area.admin)
    assert again.accepted == 0 and "已在“安康居家养老服务有限公司”登记" in _reasons(again)[2]


def test_a_user_imports_only_into_their_own_area(area, catalogue):
    imports.import_file(imports.get("homecare.providers"), fx.providers_register()[1], "名录.csv", area.admin)
    street2_admin = UserFactory(username="admin_street2", role=Role.DISTRICT_ADMIN, division=area.street2)
    run = imports.import_file(imports.get("homecare.providers"), fx.providers_register()[1], "名录.csv", street2_admin)
    assert run.accepted == 0 and "不在您的管辖范围内" in _reasons(run)[2]
    run = imports.import_file(imports.get("homecare.helpers"), fx.helpers_register()[1], "x.xlsx", street2_admin)
    assert run.accepted == 0 and all("不在您的管辖范围内" in r for r in _reasons(run).values())
    assert not m.Helper.objects.exists()


def test_a_helper_outside_the_providers_areas_is_refused(area, catalogue):
    imports.import_file(imports.get("homecare.providers"), fx.providers_register()[1], "名录.csv", area.admin)
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.append(["姓名", "所属服务商", "服务区域"])
    wb.active.append(["赵助", "安康居家养老服务有限公司", "丙社区"])
    buf = io.BytesIO()
    wb.save(buf)
    run = imports.import_file(imports.get("homecare.helpers"), buf.getvalue(), "x.xlsx", area.admin)
    assert "服务区域“丙社区”不在服务商“安康居家养老服务有限公司”的服务范围内" in _reasons(run)[2]


def test_workers_cannot_import_providers(area, login):
    assert login(area.worker_a).get("/imports/homecare.providers/").status_code == 403
    assert login(area.admin).get("/imports/homecare.helpers/").status_code == 200

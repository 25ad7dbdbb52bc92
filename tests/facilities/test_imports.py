"""The facility registry import (facilities.imports) on the shared pipeline: a street's ledger as it is kept."""
import io

import pytest
from openpyxl import load_workbook

from carenet.core import imports
from carenet.core.models import AuditLog
from carenet.facilities import models as m
from carenet.facilities import services
from tests import spreadsheets as fx

pytestmark = pytest.mark.django_db


def _reasons(run) -> dict[int, str]:
    sheet = load_workbook(io.BytesIO(bytes(run.report))).active
    assert [c.value for c in sheet[1]][:3] == ["工作表", "行号", "错误原因"]
    return {r[1]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}


def test_a_street_ledger_becomes_proposals_with_reasons_for_the_rest(area):
    run = imports.import_file(imports.get("facilities.registry"), fx.facilities_register()[1], "台账.xlsx", area.reviewer)
    assert (run.status, run.accepted, run.rejected) == ("done", 2, 3), run.message
    reasons = _reasons(run)
    assert "护理型床位数（8）超过床位数（5）" in reasons[5]
    assert "不在您的管辖范围内" in reasons[6]            # 丙社区 is in 二街道: not the reviewer's area
    assert "机构类型“养生会所”无效，可选：街道养老服务中心、社区养老服务站、农村互助养老点、敬老院、民办养老机构、日间照料中心、助餐点" \
        in reasons[7]  # one usual name per type, not every synonym
    changes = {c.data["name"]: c for c in m.FacilityChange.objects.all()}
    assert set(changes) == {"甲社区养老服务站", "一街道养老服务中心"}
    station = changes["甲社区养老服务站"]
    # Normalised: full-width digits, the type and operating model by their Chinese names, a division by name.
    assert station.data["beds"] == 10 and station.data["type"] == "station" and station.data["address"] == "人民路1号"
    assert station.data["operating_model"] == "public_private" and station.division == area.comm_a
    assert station.kind == "create" and station.state == "pending" and station.proposed_by == area.reviewer
    assert changes["一街道养老服务中心"].division == area.street1
    assert not m.Facility.objects.exists()  # maker/checker: nothing is registered until the district approves
    assert AuditLog.objects.filter(action="create", model="facilities.facilitychange").count() == 2
    assert AuditLog.objects.get(action="import", object_id=str(run.pk)).note == "rows=5 accepted=2 rejected=3"

    services.decide(area.admin, station.pk, True)
    assert m.Facility.objects.get().name == "甲社区养老服务站"
    again = imports.import_file(imports.get("facilities.registry"), fx.facilities_register()[1], "台账.xlsx", area.reviewer)
    reasons = _reasons(again)
    assert again.accepted == 0 and "已在甲社区登记" in reasons[3] and "已有待审批的新增申请" in reasons[4]


def test_only_proposers_import_facilities(area):
    from carenet.core.permissions import Denied
    with pytest.raises(Denied):
        imports.import_file(imports.get("facilities.registry"), fx.facilities_register()[1], "x.xlsx", area.operator)


def test_the_import_pages_list_the_facility_import_for_those_who_may(area, login):
    page = login(area.reviewer).get("/imports/").content.decode()
    assert "/imports/facilities.registry/" in page and "/imports/homecare.providers/" not in page
    assert login(area.operator).get("/imports/facilities.registry/").status_code == 403

import io

import pytest
from openpyxl import Workbook, load_workbook

from carenet.core.models import AuditLog
from carenet.people import excel
from carenet.people.models import ElderProfile, ImportBatch
from tests.factories import new_id_number

pytestmark = pytest.mark.django_db


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(excel.COLUMNS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(name, number, code, **kw):
    base = {"姓名": name, "性别": "男", "身份证号": number, "出生日期": "", "联系电话": "13800000000", "住址": "路1号",
            "区划代码": code, "居住状况": "独居", "照护等级": "轻度失能", "特殊类别": "低保", "紧急联系人": "王五",
            "紧急联系人关系": "儿子", "紧急联系人电话": "13900000000"}
    base.update(kw)
    return [base[c] for c in excel.COLUMNS]



def _file(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("elders.xlsx", data)


def test_good_rows_go_in_and_bad_rows_come_back_with_reasons(area, login):
    good1, good2 = new_id_number(), new_id_number()
    existing = area.elder_a.resident.id_number
    data = _xlsx([
        _row("好一", good1, area.comm_a.code),
        _row("坏校验", good2[:17] + ("1" if good2[17] != "1" else "2"), area.comm_a.code),
        _row("未知区划", new_id_number(), "999999999999"),
        _row("重复已有", existing, area.comm_a.code),
        _row("缺姓名", new_id_number(), area.comm_a.code, 姓名=""),
        _row("好二", good2, area.comm_a.code),
        _row("文件内重复", good2, area.comm_a.code),
        _row("越权", new_id_number(), area.comm_b.code),
    ])
    client = login(area.worker_a)
    response = client.post("/people/elders/import/", {"file": _file(data)})
    assert response.status_code == 200
    batch = ImportBatch.objects.get()
    assert (batch.total, batch.accepted, batch.rejected) == (8, 2, 6)
    names = set(ElderProfile.objects.values_list("resident__name", flat=True))
    assert {"好一", "好二"} <= names and not names & {"坏校验", "未知区划", "缺姓名", "文件内重复", "越权"}

    report = client.get(f"/people/elders/import/{batch.pk}/rejected.xlsx")
    rows = {r[2]: r[1] for r in load_workbook(io.BytesIO(report.content)).active.iter_rows(min_row=2, values_only=True)}
    assert "校验码" in rows["坏校验"]
    assert "不存在" in rows["未知区划"]
    assert "已登记" in rows["重复已有"]
    assert "缺少必填项：姓名" in rows[None] or "缺少必填项：姓名" in rows.get("", "")
    assert "重复" in rows["文件内重复"]
    assert "管辖" in rows["越权"]
    assert AuditLog.objects.filter(action="import").count() == 1
    assert AuditLog.objects.filter(action="create", model="people.resident").count() == 2


def test_failure_mid_write_rolls_back_everything(area, login, monkeypatch):
    data = _xlsx([_row(f"批量{i}", new_id_number(), area.comm_a.code) for i in range(5)])
    calls = {"n": 0}
    real_create = ElderProfile.objects.create

    def failing_create(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(ElderProfile.objects, "create", failing_create)
    before = ElderProfile.objects.count()
    with pytest.raises(RuntimeError):
        excel.import_file(data, "x.xlsx", area.worker_a)
    assert ElderProfile.objects.count() == before
    assert not ImportBatch.objects.exists()


def test_not_an_excel_file_gets_a_clear_message(area, login):
    response = login(area.worker_a).post("/people/elders/import/", {"file": _file(b"not a spreadsheet")}, follow=True)
    assert ".xlsx" in response.content.decode()


def test_wrong_header_is_refused(area):
    wb = Workbook()
    wb.active.append(["name", "id"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(excel.ImportFileError) as err:
        excel.import_file(buf.getvalue(), "x.xlsx", area.worker_a)
    assert "身份证号" in str(err.value)


def test_operator_cannot_import(area, login):
    assert login(area.operator).get("/people/elders/import/").status_code == 403

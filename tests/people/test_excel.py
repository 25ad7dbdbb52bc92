"""The elder import on the shared pipeline: every realistic file shape imports or is refused with what to do."""
import io

import pytest
from openpyxl import Workbook, load_workbook

from carenet.core import imports
from carenet.core.models import AuditLog, ColumnMapping, ImportRun, ImportUpload
from carenet.core.tabular import ID_AS_NUMBER, FileError, MappingNeeded
from carenet.people import excel
from carenet.people.models import ElderProfile, Resident
from tests import spreadsheets as fx
from tests.factories import new_id_number

pytestmark = pytest.mark.django_db
ELDERS = "people.elders"


def _importer():
    return imports.get(ELDERS)


def _xlsx(rows, header=excel.COLUMNS):
    wb = Workbook()
    wb.active.append(header)
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(name, number, code, **kw):
    base = {"姓名": name, "性别": "男", "身份证号": number, "出生日期": "", "联系电话": "13800000000", "住址": "路1号",
            "区划代码": code, "居住状况": "独居", "照护等级": "轻度失能", "特殊类别": "低保", "紧急联系人": "王五",
            "紧急联系人关系": "儿子", "紧急联系人电话": "13900000000"}
    base.update(kw)
    return [base[c] for c in excel.COLUMNS]


def _reasons(run):
    sheet = load_workbook(io.BytesIO(bytes(run.report))).active
    return {r[3]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("name", list(fx.FIXTURES))
def test_each_realistic_file_gives_its_expected_outcome(area, name):
    builder, imported, rejected = fx.FIXTURES[name]
    filename, data = builder()
    user = area.admin if name in ("two_sheets", "merged_cells") else area.worker_a
    run = imports.import_file(_importer(), data, filename, user)
    assert (run.status, run.accepted, run.rejected) == ("done", imported, rejected), run.report and _reasons(run)
    created = Resident.objects.filter(name__startswith="测试")
    assert created.count() == imported
    if rejected:
        assert all(ID_AS_NUMBER in reason for reason in _reasons(run).values())


def test_a_community_merged_down_over_its_rows_reaches_every_row(area):
    run = imports.import_file(_importer(), fx.merged_cells()[1], "x.xlsx", area.admin)
    assert run.accepted == 5
    # One audit row per record written, as when typed in (COPY on PostgreSQL, bulk insert elsewhere).
    resident = Resident.objects.get(name=fx.person(100)["name"])
    row = AuditLog.objects.get(model="people.resident", object_id=str(resident.pk))
    assert row.action == "create" and row.actor == area.admin and row.after["name"] == resident.name
    assert row.division_path == area.comm_a.path and row.before is None and "id_number_enc" not in row.after
    elder_row = AuditLog.objects.get(model="people.elderprofile", object_id=str(resident.elder.pk))
    assert elder_row.after["categories"] == [] and elder_row.object_repr == str(resident)
    assert AuditLog.objects.filter(action="create", actor=area.admin).count() == 5 * 5  # household … contact
    by_name = {r.name: r.division.name for r in Resident.objects.filter(name__startswith="测试").select_related("division")}
    assert by_name == {fx.person(100 + i)["name"]: ("甲社区" if i < 3 else "乙社区") for i in range(5)}
    # The two-level header under the merged 紧急联系人 still reads as 紧急联系人姓名 | 紧急联系人电话.
    elder = ElderProfile.objects.get(resident__name=fx.person(104)["name"])
    assert [(c.name, c.phone) for c in elder.contacts.all()] == [("王五", "13900000000")]


def test_a_worker_cannot_import_into_another_community_even_through_a_merged_cell(area):
    run = imports.import_file(_importer(), fx.merged_cells()[1], "x.xlsx", area.worker_a)
    assert (run.accepted, run.rejected) == (3, 2)
    assert all("不在您的管辖范围内" in reason for reason in _reasons(run).values())


def test_two_sheets_put_each_elder_in_the_community_of_its_sheet(area):
    imports.import_file(_importer(), fx.two_sheets()[1], "x.xlsx", area.admin)
    by_division = sorted(Resident.objects.filter(name__startswith="测试").values_list("division__name", flat=True))
    assert by_division == ["乙社区", "甲社区", "甲社区"]


def test_values_are_stored_normalised(area):
    imports.import_file(_importer(), fx.full_width()[1], "x.xlsx", area.worker_a)
    p = fx.person(40)
    r = Resident.objects.get(name=p["name"])
    assert (r.id_number, r.phone, r.division, r.sex) == (p["id"], "13800000000", area.comm_a, "M")


def test_good_rows_go_in_and_bad_rows_come_back_with_reasons(area):
    good1, good2 = new_id_number(), new_id_number()
    data = _xlsx([
        _row("好一", good1, area.comm_a.code),
        _row("坏校验", good2[:17] + ("1" if good2[17] != "1" else "2"), area.comm_a.code),
        _row("未知区划", new_id_number(), "999999999999"),
        _row("重复已有", area.elder_a.resident.id_number, area.comm_a.code),
        _row("缺姓名", new_id_number(), area.comm_a.code, 姓名=""),
        _row("好二", good2, area.comm_a.code),
        _row("文件内重复", good2, area.comm_a.code),
        _row("越权", new_id_number(), area.comm_b.code),
        _row("太年轻", new_id_number(__import__("datetime").date(1990, 1, 1)), area.comm_a.code),
        _row("性别不符", new_id_number(sex="F"), area.comm_a.code),
        _row("坏类别", new_id_number(), area.comm_a.code, 特殊类别="五保"),
    ])
    run = imports.import_file(_importer(), data, "elders.xlsx", area.worker_a)
    assert (run.total, run.accepted, run.rejected) == (11, 2, 9)
    names = set(ElderProfile.objects.values_list("resident__name", flat=True))
    assert {"好一", "好二"} <= names and not names & {"坏校验", "未知区划", "缺姓名", "文件内重复", "越权"}
    reasons = _reasons(run)
    assert "校验码" in reasons["坏校验"]
    assert "不存在" in reasons["未知区划"]
    assert "已登记" in reasons["重复已有"]
    assert "缺少必填项：姓名" in reasons[None]
    assert reasons["文件内重复"] == "身份证号与第7行重复"
    assert "管辖" in reasons["越权"]
    assert "不足60岁" in reasons["太年轻"]
    assert "性别与身份证号不符" in reasons["性别不符"]
    assert "可选：特困、低保" in reasons["坏类别"]
    assert AuditLog.objects.filter(action="import", object_id=str(run.pk)).count() == 1
    assert AuditLog.objects.filter(action="create", model="people.resident").count() == 2
    assert AuditLog.objects.filter(action="create", model="people.elderprofile").count() == 2
    assert AuditLog.objects.filter(action="lookup", note__contains="elder import").exists()


def test_the_export_reads_back_in(area):
    """The export masks ID numbers, so re-importing it is refused row by row, with the reason."""
    data = excel.export(ElderProfile.objects.filter(pk=area.elder_a.pk), area.worker_a)
    run = imports.import_file(_importer(), data, "elders.xlsx", area.worker_a)
    assert run.rejected == 1 and "身份证号" in next(iter(_reasons(run).values()))


def test_failure_mid_write_rolls_back_everything(area, monkeypatch):
    data = _xlsx([_row(f"批量{i}", new_id_number(), area.comm_a.code) for i in range(5)])
    calls = {"n": 0}
    from carenet.core import audit
    real_record_many = audit.record_many

    def failing_audit(*args, **kwargs):  # households, residents, profiles … are already inserted by then
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_record_many(*args, **kwargs)

    monkeypatch.setattr(audit, "record_many", failing_audit)
    before = ElderProfile.objects.count()
    run = imports.import_file(_importer(), data, "x.xlsx", area.worker_a)
    assert run.status == "failed" and run.accepted == 0
    assert calls["n"] == 3
    assert ElderProfile.objects.count() == before and not Resident.objects.filter(name__startswith="批量").exists()


def test_wrong_header_is_refused_with_the_missing_columns(area):
    wb = Workbook()
    wb.active.append(["name", "id"])
    wb.active.append(["a", "b"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(MappingNeeded) as err:
        imports.import_file(_importer(), buf.getvalue(), "x.xlsx", area.worker_a)
    assert "姓名" in str(err.value) and "身份证号" in str(err.value)


def test_upload_preview_mapping_and_import_through_the_pages(area, login):
    client = login(area.worker_a)
    assert client.get("/people/elders/import/").url == "/imports/people.elders/"
    filename, data = fx.new_source()
    from django.core.files.uploadedfile import SimpleUploadedFile
    response = client.post("/imports/people.elders/", {"file": SimpleUploadedFile(filename, data)})
    staged = ImportUpload.objects.get()
    assert response.url == f"/imports/people.elders/{staged.pk}/"
    page = client.get(response.url).content.decode()
    assert "人员名称" in page and "data-testid=\"mapping-missing\"" in page  # the mapping screen
    assert fx.person(80)["id"] not in page and fx.person(80)["id"][:4] in page  # first values shown masked
    client.post(f"/imports/people.elders/{staged.pk}/mapping/", {"s0-c0": "name", "s0-c1": "sex", "s0-c2": "id_number",
                                                                 "s0-c3": "division"})
    assert ColumnMapping.objects.get().mapping == {"人员名称": "name", "男女": "sex", "证照号码": "id_number", "所在单元": "division"}
    page = client.get(f"/imports/people.elders/{staged.pk}/").content.decode()
    assert "data-testid=\"preview-rows\"" in page and fx.person(80)["name"] in page and fx.person(80)["id"] not in page
    assert "<td>None</td>" not in page and "<td>2</td>" in page
    assert not Resident.objects.filter(name__startswith="测试").exists()
    response = client.post(f"/imports/people.elders/{staged.pk}/confirm/")
    run = ImportRun.objects.get()
    # Queued as a background job (its thread starts after the commit, which a test transaction never makes):
    # the result page shows the progress and polls; the job then runs as `manage.py run_imports` would run it.
    assert response.url == f"/imports/people.elders/runs/{run.pk}/" and run.status == "queued"
    page = client.get(response.url).content.decode()
    assert 'data-status="queued"' in page and "hx-trigger=\"every 1s\"" in page
    run = imports.execute(run.pk)
    assert run.status == "done" and run.accepted == 2 and run.progress == 100 and "2" in run.log
    partial = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in partial and "hx-trigger" not in partial and "导入 2 行" in partial
    assert not ImportUpload.objects.exists()


def test_the_rejects_download_is_the_uploaders_and_masked(area, login):
    run = imports.import_file(_importer(), fx.ids_as_numbers()[1], "x.xlsx", area.worker_a)
    assert login(area.worker_b).get(f"/imports/runs/{run.pk}/rejected.xlsx").status_code == 404
    body = login(area.worker_a).get(f"/imports/runs/{run.pk}/rejected.xlsx").content
    text = " ".join(str(c) for r in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True) for c in r if c)
    assert ID_AS_NUMBER in text and fx.person(20)["id"][:14] not in text
    assert AuditLog.objects.filter(action="export", model="core.importrun").count() == 1


@pytest.mark.parametrize("data,words", [(b"not a spreadsheet at all", "不是有效的 Excel"), (b"", "空"),
                                        (b"<html><body>x</body></html>", "网页")])
def test_unreadable_uploads_get_a_clear_message_and_no_500(area, login, data, words):
    from django.core.files.uploadedfile import SimpleUploadedFile
    client = login(area.worker_a)
    response = client.post("/imports/people.elders/", {"file": SimpleUploadedFile("x.xls", data)}, follow=True)
    assert response.status_code == 200 and words in response.content.decode()
    assert not ImportUpload.objects.exists()


def test_a_csv_without_a_header_is_refused_at_the_preview(area, login):
    from django.core.files.uploadedfile import SimpleUploadedFile
    client = login(area.worker_a)
    response = client.post("/imports/people.elders/", {"file": SimpleUploadedFile("x.csv", b"1,2,3\n4,5,6\n")},
                           follow=True)
    assert response.status_code == 200 and "没有找到表头" in response.content.decode()


def test_template_download_keeps_id_digits_as_text(area, login):
    response = login(area.worker_a).get("/people/elders/import/template.xlsx", follow=True)
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[1]] == excel.COLUMNS and ws.cell(2, 3).number_format == "@"


def test_operator_cannot_import(area, login):
    client = login(area.operator)
    assert client.get("/people/elders/import/").status_code == 403
    assert client.get("/imports/people.elders/").status_code == 403


def test_unknown_importer_is_404(area, login):
    assert login(area.worker_a).get("/imports/nothing.here/").status_code == 404


def test_file_error_type_is_the_pipelines():
    assert issubclass(MappingNeeded, FileError)

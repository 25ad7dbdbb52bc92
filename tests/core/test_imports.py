"""The Django side of the shared import pipeline, with a small importer declared the way apps declare theirs."""
import io

import pytest
from openpyxl import Workbook, load_workbook

from carenet.core import imports
from carenet.core.models import AuditLog, ColumnMapping, Division, ImportRun, ImportUpload
from carenet.core.permissions import Denied
from carenet.core.tabular import Column, MappingNeeded, Schema

pytestmark = pytest.mark.django_db
VALID = "340899196402020751"


class GridImporter(imports.Importer):
    """Grids (网格) under communities: enough to exercise divisions by name, IDs, rejects and the write."""

    key = "test.grids"
    label = "网格"
    capability = "people.import"
    schema = Schema([
        Column("name", "网格名称", required=True, aliases=("网格",)),
        Column("code", "网格代码", kind="code", required=True, unique=True),
        Column("community", "所属社区", kind="division", required=True, params={"min_level": 3}),
        Column("leader_id", "网格员身份证号", kind="id_number"),
    ])

    def validate(self, rows, ctx):
        taken = set(Division.objects.filter(code__in=[r["code"] for r in rows]).values_list("code", flat=True))
        for row in rows:
            if row["code"] in taken:
                row.error(f"网格代码 {row['code']} 已存在")

    def write(self, rows, ctx):
        for row in rows:
            grid = Division.objects.create(code=row["code"], name=row["name"], level=4, parent=row["community"])
            AuditLog.objects.create(action="create", actor=ctx.user, model="core.division", object_id=str(grid.pk))


GRIDS = imports.register(GridImporter())


def _xlsx(*rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_valid_rows_go_in_together_and_rejects_come_back_masked(area):
    data = _xlsx(["网格信息表"], ["网格", "网格代码", "社区", "网格员身份证号"],
                 ["一网格", "340899001001001", "甲社区", VALID],
                 ["二网格", "340899001001002", "一街道甲社区", float(VALID)],
                 ["三网格", "340899001002001", "乙社区", ""],        # outside worker_a's area
                 ["四网格", "340899001001003", "一街道", ""],        # a street, not a community
                 ["五网格", "340899001001001", "甲社区", ""])        # the same code twice in the file
    run = imports.import_file(GRIDS, data, "grids.xlsx", area.worker_a)
    assert (run.status, run.total) == ("done", 5)
    names = set(Division.objects.filter(level=4).values_list("name", flat=True))
    assert names == {"一网格"}
    report = load_workbook(io.BytesIO(bytes(run.report))).active
    reasons = {r[3]: r[2] for r in report.iter_rows(min_row=2, values_only=True)}
    assert "最后几位已丢失" in reasons["二网格"]
    assert "不在您的管辖范围内" in reasons["三网格"]
    assert "不在您的管辖范围内" in reasons["四网格"]  # a street above her community: not hers either
    assert reasons["五网格"] == "网格代码与第3行重复"
    flat = " ".join(str(c) for r in report.iter_rows(values_only=True) for c in r if c)
    assert VALID not in flat and VALID[:15] not in flat
    entry = AuditLog.objects.get(action="import")
    assert entry.object_id == str(run.pk) and "accepted=" in entry.note


def test_division_names_codes_and_levels(area):
    data = _xlsx(["网格名称", "网格代码", "所属社区"], ["一", "340899001001001", "一街道"], ["二", "340899001001002", "丙社区"],
                 ["三", "340899001001003", "340899002001"], ["四", "340899001001004", "无此社区"],
                 ["五", "340899001001005", "甲社区居委会"])
    run = imports.import_file(GRIDS, data, "g.xlsx", area.admin)
    reasons = {r[3]: r[2] for r in load_workbook(io.BytesIO(bytes(run.report))).active.iter_rows(min_row=2, values_only=True)}
    assert reasons == {"一": "所属社区“一街道”是街道/乡镇，请填写社区/村或网格",
                       "四": "所属社区“无此社区”不存在（请填写区划名称或区划代码）"}
    assert dict(Division.objects.filter(level=4).values_list("name", "parent__name")) == {
        "二": "丙社区", "三": "丙社区", "五": "甲社区"}


def test_a_failure_while_writing_leaves_nothing_and_says_so(area, monkeypatch):
    data = _xlsx(["网格名称", "网格代码", "所属社区"], *[[f"{i}网格", f"34089900100109{i}", "甲社区"] for i in range(3)])
    calls = {"n": 0}
    real = Division.objects.create

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(Division.objects, "create", failing)
    before = Division.objects.count()
    run = imports.import_file(GRIDS, data, "g.xlsx", area.worker_a)
    assert run.status == ImportRun.Status.FAILED and "没有导入任何一行" in run.message
    assert Division.objects.count() == before and ImportRun.objects.count() == 1


def test_mapping_is_asked_for_then_saved_per_source(area):
    data = _xlsx(["单元名称", "单元编号", "社区"], ["一网格", "340899001001001", "甲社区"])
    with pytest.raises(MappingNeeded) as err:
        imports.import_file(GRIDS, data, "new.xlsx", area.worker_a)
    assert "网格名称" in str(err.value) and "网格代码" in str(err.value)
    upload = imports.stage(GRIDS, area.worker_a, "new.xlsx", data)
    assert VALID not in bytes(upload.data_enc).decode("latin-1") and b"PK" not in bytes(upload.data_enc)[:2]
    pv = imports.preview(GRIDS, upload, area.worker_a)
    assert pv.needs_mapping and pv.parsed.layouts[0].unmatched == ["单元名称", "单元编号"]
    imports.save_mapping(GRIDS, area.worker_a, pv.parsed.layouts[0], {"单元名称": "name", "单元编号": "code", "社区": "community"})
    pv = imports.preview(GRIDS, upload, area.worker_a)
    assert not pv.needs_mapping and pv.accepted == 1 and pv.rows[0]["community"] == area.comm_a
    assert not Division.objects.filter(level=4).exists()  # the preview writes nothing
    run = imports.run(GRIDS, upload, area.worker_a)
    assert run.accepted == 1 and not ImportUpload.objects.exists()
    # The next file from the same source is understood at once.
    again = _xlsx(["单元名称", "单元编号", "社区"], ["二网格", "340899001001002", "甲社区"])
    assert imports.import_file(GRIDS, again, "new2.xlsx", area.worker_a).accepted == 1
    assert ColumnMapping.objects.count() == 1
    assert AuditLog.objects.filter(model="core.columnmapping").count() == 1


def test_only_those_with_the_capability_import(area):
    with pytest.raises(Denied):
        imports.import_file(GRIDS, _xlsx(["网格名称"]), "g.xlsx", area.operator)
    assert AuditLog.objects.filter(action="denied").exists()

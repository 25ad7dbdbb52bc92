"""The import as a background job (core.import_jobs): queued by the confirm step, run by a thread or by
`manage.py run_imports`, with progress and a log on the ImportRun row; params and per-source mapping scopes."""
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from carenet.core import imports
from carenet.core.models import AuditLog, ColumnMapping, Division, ImportRun, ImportUpload
from carenet.core.tabular import Column, FileError, MappingNeeded, Schema

pytestmark = pytest.mark.django_db


class SourceImporter(imports.Importer):
    """Grids again, with a ?source= parameter the way the department loads of matching/ use one."""

    key = "test.sourced"
    label = "网格（按来源）"
    capability = "people.import"
    schema = Schema([
        Column("name", "网格名称", required=True),
        Column("code", "网格代码", kind="code", required=True, unique=True),
        Column("community", "所属社区", kind="division", required=True, params={"min_level": 3}),
    ])
    fail_on: str = ""

    def check_params(self, user, params):
        if params.get("source") not in ("1", "2", 1, 2):
            raise FileError("数据来源不存在。")
        return {"source": int(params["source"])}

    def mapping_scope(self, params):
        return f"source:{params['source']}"

    def validate(self, rows, ctx):
        for row in rows:
            row.data["source"] = ctx.params["source"]

    def write(self, rows, ctx):
        for row in rows:
            if row["name"] == self.fail_on:
                raise RuntimeError("disk full")
            Division.objects.create(code=row["code"], name=row["name"], level=4, parent=row["community"])
        ctx.outcome["grids"] = len(rows)
        ctx.outcome["source"] = rows[0].data["source"]


SOURCED = imports.register(SourceImporter())


def _xlsx(*rows) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GRIDS = _xlsx(["网格名称", "网格代码", "所属社区"], ["一网格", "340899001001001", "甲社区"],
              ["二网格", "340899001001002", "甲社区"], ["坏网格", "340899001001003", "不存在社区"])


def _queued(area, data=GRIDS, source="1"):
    upload = imports.stage(SOURCED, area.worker_a, "grids.xlsx", data, params={"source": source, "junk": "x"})
    assert upload.params == {"source": int(source)}  # cleaned by the importer; unknown parameters dropped
    return imports.start(SOURCED, upload, area.worker_a)


def test_confirm_queues_a_job_that_starts_after_the_commit(area, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        run = _queued(area)
    assert run.status == "queued" and run.progress == 0 and run.upload_id
    assert len(callbacks) == 1  # the thread's start, once the request's transaction has committed
    assert not Division.objects.filter(level=4).exists()


def test_the_job_writes_progress_log_counts_and_the_audit_row(area):
    run = imports.execute(_queued(area).pk)
    assert (run.status, run.progress, run.total, run.accepted, run.rejected) == ("done", 100, 3, 2, 1)
    assert run.started and run.finished and run.outcome == {"grids": 2, "source": 1}
    lines = run.log.splitlines()
    assert len(lines) >= 4 and "rows/s" not in lines[0]
    assert any("3" in ln and "2" in ln for ln in lines)  # checked 3 rows: 2 can be imported, 1 rejected
    assert set(Division.objects.filter(level=4).values_list("name", flat=True)) == {"一网格", "二网格"}
    assert AuditLog.objects.get(action="import", object_id=str(run.pk)).note == "rows=3 accepted=2 rejected=1"
    assert run.report and not ImportUpload.objects.exists()  # the file is not kept once imported
    assert imports.execute(run.pk).accepted == 2 and Division.objects.filter(level=4).count() == 2  # no re-run


def test_a_failed_write_leaves_nothing_keeps_the_file_and_can_run_again(area, monkeypatch):
    monkeypatch.setattr(SOURCED, "fail_on", "二网格")
    run = imports.execute(_queued(area).pk)
    assert run.status == "failed" and run.accepted == 0 and "没有导入任何一行" in run.message
    assert not Division.objects.filter(level=4).exists() and run.upload_id
    monkeypatch.setattr(SOURCED, "fail_on", "")
    call_command("run_imports", str(run.pk), stdout=io.StringIO())
    run.refresh_from_db()
    assert run.status == "done" and run.accepted == 2


def test_a_file_that_no_longer_reads_fails_with_what_to_do(area):
    run = _queued(area, data=_xlsx(["人员", "编号"], ["一网格", "1"]))
    run = imports.execute(run.pk)
    assert run.status == "failed" and "表头缺少列" in run.message and "表头缺少列" in run.log


def test_the_command_picks_up_queued_runs_and_runs_whose_worker_died(area):
    queued = _queued(area)
    dead = _queued(area, data=_xlsx(["网格名称", "网格代码", "所属社区"], ["三网格", "340899001001004", "甲社区"]))
    alive = _queued(area, data=_xlsx(["网格名称", "网格代码", "所属社区"], ["四网格", "340899001001005", "甲社区"]))
    ImportRun.objects.filter(pk=dead.pk).update(status="running", started=timezone.now() - dt.timedelta(hours=1))
    ImportRun.objects.filter(pk=alive.pk).update(status="running", started=timezone.now())
    out = io.StringIO()
    call_command("run_imports", "--pending", stdout=out)
    status = dict(ImportRun.objects.values_list("pk", "status"))
    assert status[queued.pk] == "done" and status[dead.pk] == "done" and status[alive.pk] == "running"
    assert f"import {queued.pk}: done" in out.getvalue()


def test_mappings_are_saved_per_source_scope(area):
    data = _xlsx(["名称", "编码", "社区"], ["五网格", "340899001001006", "甲社区"])
    upload = imports.stage(SOURCED, area.worker_a, "new.xlsx", data, params={"source": "1"})
    with pytest.raises(MappingNeeded):
        imports.import_file(SOURCED, data, "new.xlsx", area.worker_a, params={"source": "1"})
    pv = imports.preview(SOURCED, upload, area.worker_a)
    imports.save_mapping(SOURCED, area.worker_a, pv.parsed.layouts[0], {"名称": "name", "编码": "code", "社区": "community"},
                         params=upload.params)
    assert ColumnMapping.objects.get().scope == "source:1"
    with pytest.raises(MappingNeeded):  # source 2 has the same headers but made no choice
        imports.import_file(SOURCED, data, "new.xlsx", area.worker_a, params={"source": "2"})
    run = imports.import_file(SOURCED, data, "new.xlsx", area.worker_a, params={"source": "1"})
    assert run.accepted == 1 and run.params == {"source": 1}


def test_params_are_checked_at_upload(area, login):
    with pytest.raises(FileError):
        imports.stage(SOURCED, area.worker_a, "x.xlsx", GRIDS, params={"source": "9"})
    client = login(area.worker_a)
    from django.core.files.uploadedfile import SimpleUploadedFile
    page = client.post("/imports/test.sourced/?source=9", {"file": SimpleUploadedFile("x.xlsx", GRIDS)}, follow=True)
    assert "数据来源不存在" in page.content.decode() and not ImportUpload.objects.exists()
    response = client.post("/imports/test.sourced/?source=2", {"file": SimpleUploadedFile("x.xlsx", GRIDS)})
    assert ImportUpload.objects.get().params == {"source": 2} and response.status_code == 302


def test_the_result_page_polls_while_running_and_is_the_uploaders_only(area, login):
    run = _queued(area)
    ImportRun.objects.filter(pk=run.pk).update(status="running", progress=40, log="10:00:00 已读取文件")
    page = login(area.worker_a).get(f"/imports/test.sourced/runs/{run.pk}/").content.decode()
    assert 'data-status="running"' in page and "40%" in page and "已读取文件" in page and "hx-trigger" in page
    assert login(area.worker_b).get(f"/imports/test.sourced/runs/{run.pk}/").status_code == 404

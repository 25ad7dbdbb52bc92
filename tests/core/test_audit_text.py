"""The audit log reads as sentences in Chinese, in local time, with no developer text."""
import datetime as dt

from django.utils import timezone

from carenet.core.models import AuditLog
from carenet.people import services


def test_update_reads_as_a_sentence_with_field_names_and_local_time(area, login):
    resident = area.elder_a.resident
    resident.phone = "13912345678"
    services.save_resident(area.admin, resident)
    entry = AuditLog.objects.filter(action="update", model="people.resident").latest("ts")
    AuditLog.objects.filter(pk=entry.pk).update(ts=dt.datetime(2026, 11, 29, 1, 2, 3, tzinfo=dt.timezone.utc))
    page = login(area.admin).get("/audit/").content.decode()
    row = page.split('data-testid="audit-table"', 1)[1]
    assert f"{area.admin.display_name} 修改了 甲老人" in row and "的电话" in row
    assert "2026-11-29 09:02:03" in row                        # Asia/Shanghai, not UTC
    assert "+00:00" not in row and "None" not in row and "people.resident" not in row


def test_denials_and_exports_in_plain_words(area, login):
    AuditLog.objects.create(actor=area.helper, actor_name="helper1", action="denied", note="missing capability people.edit")
    AuditLog.objects.create(actor=area.admin, actor_name="admin1", action="export", model="people.elderprofile",
                            note="rows=12", ts=timezone.now())
    row = login(area.admin).get("/audit/").content.decode().split('data-testid="audit-table"', 1)[1]
    assert "的操作被拒绝" in row and "该角色无此操作权限" in row and "missing capability" not in row
    assert "导出了" in row and "共 12 行" in row and "rows=" not in row


def test_developer_prefixes_and_default_reprs_are_not_shown(area):
    from carenet.core import audit_text

    stop = AuditLog(actor=area.approver if hasattr(area, "approver") else area.admin, action="update",
                    model="people.resident", object_repr="Resident object (7)",
                    note="assistance.payment stop: 复核发现家庭成员已就业")
    assert audit_text.note_text(stop.note) == "复核发现家庭成员已就业"
    assert "object (7)" not in audit_text.sentence(stop) and "#7" in audit_text.sentence(stop)

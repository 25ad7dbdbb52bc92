"""Print views (#18): the case file and the payroll summary, masked, scoped, audited, with the right totals."""
import pytest

from carenet.core.models import AuditLog
from tests.assistance.test_django_payroll import aa, approved_case, clock, run  # noqa: F401  (fixtures and helpers)

pytestmark = pytest.mark.django_db


def test_case_file_prints_the_steps_and_opinions_with_a_masked_id(aa, clock, client):
    case = approved_case(aa, clock)
    client.force_login(aa.worker_a)
    page = client.get(f"/assistance/cases/{case.pk}/print/")
    html = page.content.decode()
    assert page.status_code == 200
    assert case.number in html and aa.applicant.name in html
    assert aa.applicant.id_masked in html and aa.applicant.id_number not in html
    assert "同意" in html and "社区（调查人）签字" in html            # the reviewer's opinion and the signature lines
    assert str(case.monthly_amount) in html
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, object_id=str(case.pk), note="print case file").exists()


def test_case_file_of_another_area_is_404(aa, clock, client):
    case = approved_case(aa, clock)
    client.force_login(aa.worker_b)
    assert client.get(f"/assistance/cases/{case.pk}/print/").status_code == 404


def test_payroll_summary_totals_match_the_run(aa, clock, client):
    case = approved_case(aa, clock)
    done = run(aa, clock, case.entitlement.start_month)
    client.force_login(aa.approver)
    html = client.get(f"/assistance/payroll/{done.pk}/print/").content.decode()
    assert f'data-testid="print-run-total">{done.total}<' in html
    assert "一街道" in html and "审批人" in html
    detail = client.get(f"/assistance/payroll/{done.pk}/").content.decode()
    assert "正常发放 1" in detail and "normal 1" not in detail       # kinds in words, not codes

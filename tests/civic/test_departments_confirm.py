"""Department registry with its own logins (routing by department record), and the resident's own 落单
confirmation (a private signed link, or their home-page sign-in)."""
import pytest
from django.core.exceptions import PermissionDenied

from carenet.civic import confirm, departments, services
from carenet.civic import models as m
from carenet.core.models import AuditLog
from carenet.core.roles import Role
from tests.civic.test_django_community import new_request
from tests.civic.test_django_service_requests import answers_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def depts(area, catalogue):
    made = departments.ensure_departments(area.district)
    by_name = {d.name: d for d in made}
    med = by_name["区医疗保障局"]
    edu = by_name["区教育局"]
    med_user = UserFactory(username="dept_med", role=Role.DEPARTMENT, division=area.district)
    edu_user = UserFactory(username="dept_edu", role=Role.DEPARTMENT, division=area.district)
    departments.add_department_member(area.admin, med, med_user)
    departments.add_department_member(area.admin, edu, edu_user)
    return type("D", (), {"med": med, "edu": edu, "med_user": med_user, "edu_user": edu_user})


def test_registry_links_items_and_skips_local_offices(area, catalogue, depts):
    assert not m.Department.objects.filter(name__startswith="乡镇（街道）").exists()
    item = next(i for i in m.ServiceItem.objects.filter(department="区医疗保障局"))
    assert item.unit == depts.med
    assert m.ServiceItem.objects.filter(department="乡镇（街道）民政办", unit__isnull=True).exists()
    assert AuditLog.objects.filter(note="civic.department member").count() == 2


def test_routed_by_record_and_seen_only_by_that_department(area, catalogue, depts, client):
    med_item = m.ServiceItem.objects.filter(unit=depts.med).first()
    local_item = m.ServiceItem.objects.filter(department="乡镇（街道）民政办").first()
    r1 = services.submit_request(item=med_item, answers=answers_for(med_item), applicant=area.elder_a.resident)
    r2 = services.submit_request(item=local_item, answers=answers_for(local_item), applicant=area.elder_a.resident)
    services.act_on_request(r1, "route", user=area.reviewer)                       # default: the item's department
    services.act_on_request(r2, "route", user=area.reviewer, data={"to": "一街道民政办"})
    r1.refresh_from_db()
    r2.refresh_from_db()
    assert r1.department == depts.med and r1.routed_to == "区医疗保障局"
    assert r2.department is None and r2.routed_to == "一街道民政办"
    client.force_login(depts.med_user)
    page = client.get("/civic/").content.decode()
    assert med_item.name in page and local_item.name not in page
    assert client.get(f"/civic/requests/{r1.pk}/").status_code == 200
    assert client.get(f"/civic/requests/{r2.pk}/").status_code == 404
    assert client.get("/civic/community/").status_code in (200, 403)
    client.force_login(depts.edu_user)
    assert client.get(f"/civic/requests/{r1.pk}/").status_code == 404
    with pytest.raises(services.CivicServiceError):
        services.act_on_request(r1, "complete", user=depts.edu_user, data={"note": "x"})
    with pytest.raises(services.CivicServiceError):
        services.act_on_request(r1, "route", user=depts.med_user, data={"department": depts.edu.pk})
    client.force_login(depts.med_user)
    r = client.post(f"/civic/requests/{r1.pk}/complete/", {"note": "已办结，医保已缴"})
    assert r.status_code == 302
    r1.refresh_from_db()
    assert r1.state == "done" and r1.events.last().actor == depts.med_user
    # re-routing to another department record by the township
    r3 = services.submit_request(item=med_item, answers=answers_for(med_item), applicant=area.elder_a.resident)
    services.act_on_request(r3, "route", user=area.reviewer, data={"department": str(depts.edu.pk)})
    r3.refresh_from_db()
    assert r3.department == depts.edu


def test_department_page_and_logins(area, catalogue, depts, client):
    client.force_login(area.admin)
    page = client.get("/civic/departments/").content.decode()
    assert "区医疗保障局" in page and "dept_med" in page
    spare = UserFactory(username="dept_new", role=Role.DEPARTMENT, division=area.district)
    client.post("/civic/departments/", {"action": "department", "code": "D99", "name": "区民族宗教事务局",
                                        "division": area.district.pk})
    d = m.Department.objects.get(code="D99")
    client.post("/civic/departments/", {"action": "member", "department": d.pk, "user": spare.pk})
    assert m.DepartmentMember.objects.get(user=spare).department == d
    with pytest.raises(services.CivicServiceError):
        departments.add_department_member(area.admin, d, area.worker_a)           # not a department login
    client.force_login(area.worker_a)
    assert client.post("/civic/departments/", {"action": "department", "code": "X", "name": "Y",
                                               "division": area.comm_a.pk}).status_code == 403
    with pytest.raises(PermissionDenied):
        departments.save_department(area.worker_a, m.Department(code="X", name="Y", division=area.comm_a))


def walk_to_completed(area, req):
    w, r = area.worker_a, area.reviewer
    req = services.community_act(w, req, "screen")
    req = services.community_act(w, req, "draft_plan", data={"plan": "更换路灯", "cost": "800", "owner": "居委会"})
    req = services.community_act(w, req, "to_council")
    req = services.community_act(w, req, "decide", data={"members": 9, "yes": 7, "no": 1, "abstain": 0})
    req = services.community_act(r, req, "publish")
    req = services.community_act(w, req, "start_delivery")
    return services.community_act(w, req, "complete", data={"result": "两盏路灯已更换"})


def test_resident_confirms_with_the_private_link(area, client):
    req = walk_to_completed(area, new_request(area, reporter=area.elder_a.resident))
    client.force_login(area.worker_a)
    staff_page = client.get(f"/civic/community/{req.pk}/").content.decode()
    import re
    token = re.search(r"/civic/confirm/([^/<\s]+)/", staff_page).group(1)    # the link the worker sends
    assert confirm.request_for_token(token) == req and confirm.request_for_token(token + "x") is None
    client.logout()
    assert client.get("/civic/confirm/not-a-token/").status_code == 404
    page = client.get(f"/civic/confirm/{token}/").content.decode()
    assert "两盏路灯已更换" in page and area.elder_a.resident.name not in page          # name masked
    client.post(f"/civic/confirm/{token}/", {"done": "0", "reason": ""})                 # a dispute needs a reason
    req.refresh_from_db()
    assert req.state == "completed"
    client.post(f"/civic/confirm/{token}/", {"done": "0", "reason": "还有一盏不亮"})
    req.refresh_from_db()
    assert req.state == "delivering"
    req = services.community_act(area.worker_a, req, "complete", data={"result": "三盏都亮了"})
    client.post(f"/civic/confirm/{token}/", {"done": "1"})
    req.refresh_from_db()
    assert req.state == "closed" and req.closed_at
    ev = req.events.last()
    assert ev.action == "confirm" and ev.actor is None and ev.data == {"by": "resident", "via": "link"} and ev.public
    assert AuditLog.objects.filter(note="civic.qidan confirm by the resident (link)").exists()
    client.post(f"/civic/confirm/{token}/", {"done": "1"})                               # nothing more to confirm
    assert req.events.filter(action="confirm").count() == 1


def test_resident_confirms_from_the_home_page(area, client):
    req = walk_to_completed(area, new_request(area, reporter=area.elder_a.resident))
    other = walk_to_completed(area, new_request(area, reporter=area.elder_b.resident, title="别人的"))
    session = client.session
    from carenet.civic.views import SESSION_KEY
    session[SESSION_KEY] = area.elder_a.resident.pk
    session.save()
    assert "两盏路灯已更换" in client.get("/civic/home/").content.decode()
    assert client.post(f"/civic/home/confirm/{other.pk}/", {"done": "1"}).status_code == 404
    client.post(f"/civic/home/confirm/{req.pk}/", {"done": "1"})
    req.refresh_from_db()
    assert req.state == "closed" and req.events.last().data["via"] == "home login"

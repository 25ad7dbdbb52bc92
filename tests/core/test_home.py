"""Each role lands on its work: the operator on the console, the others on a to-do list with deadlines."""
import datetime as dt

from carenet.assistance import models as m
from carenet.core import todo


def test_operator_home_is_the_console(area, login):
    response = login(area.operator).get("/")
    assert response.status_code == 302 and response["Location"] == "/callcenter/"
    assert login(area.operator).get("/?overview=1").status_code == 200


def test_items_sort_overdue_first_then_by_deadline():
    later = todo.Item("b", "/b", "g", deadline=dt.date(2026, 12, 9))
    sooner = todo.Item("a", "/a", "g", deadline=dt.date(2026, 12, 2), due_soon=True)
    overdue = todo.Item("c", "/c", "g", deadline=dt.date(2026, 12, 20), overdue=True)
    undated = todo.Item("d", "/d", "g")
    assert sorted([undated, later, overdue, sooner], key=todo.Item.sort_key) == [overdue, sooner, later, undated]


def test_a_failing_provider_does_not_take_the_page_down(area, monkeypatch):
    def broken(user):
        raise RuntimeError("boom")
    monkeypatch.setattr(todo, "_providers", [broken, lambda user: [todo.Item("ok", "/", "g")]])
    assert [i.title for i in todo.items_for(area.worker_a)] == ["ok"]


def test_worker_sees_new_grid_reports_and_cases_waiting_for_their_step(area, login):
    from tests.factories import ResidentFactory
    resident = ResidentFactory(division=area.comm_a)
    m.GridReport.objects.create(reporter=area.worker_a, resident=resident, division=area.comm_a, route="dibao",
                                description="独居，无收入")
    page = login(area.worker_a).get("/").content.decode()
    todo_html = page.split('data-testid="todo"', 1)[1].split("</section>", 1)[0]
    assert "待受理的网格上报" in todo_html and "1 条待处理" in todo_html
    other = login(area.worker_b).get("/").content.decode()   # another community: not theirs
    assert 'data-testid="todo-empty"' in other


def test_reviewer_sees_a_surveyed_case_with_its_deadline_and_the_worker_does_not(area, login):
    import datetime as dt

    from carenet.assistance import services
    from tests.factories import ResidentFactory

    services.seed_default_standards(area.district)
    applicant = ResidentFactory(division=area.comm_a, name="王小明", birth_date=dt.date(1970, 5, 1))
    case = services.intake(area.worker_a, program="dibao_urban", applicant=applicant, reason="失业，收入低")
    services.record_survey(area.worker_a, case, visited_on=services.today(), visitors="张三、李四", notes="简陋",
                           facts={"incomes": [{"type": "wage", "amount": "300.00"}], "assets": {"deposits": "1000"}})
    case.refresh_from_db()
    page = login(area.reviewer).get("/").content.decode()
    todo_html = page.split('data-testid="todo"', 1)[1].split("</section>", 1)[0]
    assert f'href="/assistance/cases/{case.pk}/"' in todo_html and "王小明" in todo_html
    assert f"截止 {case.due_on:%Y-%m-%d}" in todo_html
    worker_page = login(area.worker_a).get("/").content.decode()
    assert f'/assistance/cases/{case.pk}/"' not in worker_page.split('data-testid="todo"', 1)[1].split("</section>", 1)[0]


def test_menus_hide_what_a_role_cannot_use(area, login):
    supervisor_page = login(area.supervisor).get("/people/elders/").content.decode()
    assert 'href="/assistance/payroll/"' not in supervisor_page        # cannot run payrolls
    assert 'href="/assistance/relatives/"' not in supervisor_page      # handles no cases
    admin_page = login(area.admin).get("/people/elders/").content.decode()
    assert 'href="/assistance/payroll/"' in admin_page

"""The demo: `seed_homecare --if-empty` gives the `helper` login a real task list and the pages something to show."""
import pytest
from django.core.management import call_command
from django.utils import timezone

from carenet.core.models import User
from carenet.homecare import models as m
from carenet.homecare import selectors


@pytest.mark.django_db
def test_seed_homecare_gives_the_helper_tasks_and_a_month_of_services(client):
    call_command("seed", elders=150, seed=3)
    call_command("seed_homecare", "--if-empty", days=10)
    helper = User.objects.get(username="helper")
    tasks = selectors.helper_tasks(helper)
    assert len(tasks) == 5 and {o.state for o in tasks} >= {"assigned", "accepted", "checked_in"}
    assert m.Order.objects.filter(state="rated").count() >= 100
    assert m.VisitPlan.objects.exists() and m.VisitRecord.objects.exists()
    plans, overdue = m.VisitPlan.objects.count(), m.VisitPlan.objects.filter(next_due__lt=timezone.localdate()).count()
    assert 0 < overdue < plans / 5  # a community that is a little behind, not one that never visits
    assert m.SettlementRun.objects.filter(status="done").count() == 1
    n = m.Order.objects.count()
    call_command("seed_homecare", "--if-empty")
    assert m.Order.objects.count() == n  # idempotent
    client.force_login(helper)
    page = client.get("/homecare/m/").content.decode()
    assert page.count('data-testid="task-card"') == 5
    client.force_login(User.objects.get(username="operator"))
    kpis = client.get("/callcenter/kpis/").content.decode()
    assert 'data-testid="kpi-offline">0<' not in kpis

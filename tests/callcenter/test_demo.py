import pytest
from django.core.management import call_command

from carenet.callcenter.models import OnlineService
from carenet.monitoring.models import Alarm

pytestmark = pytest.mark.django_db


def test_seed_callcenter_builds_a_kpi_history_once(area, client):
    area.elder_a.key_elder = True
    area.elder_a.save()
    call_command("seed_callcenter", days=5, per_day=6)
    n = Alarm.objects.count()
    assert n > 0 and Alarm.objects.filter(status__in=Alarm.ACTIVE).count() == 0
    assert OnlineService.objects.filter(kind="care_call").exists() and OnlineService.objects.filter(kind="emergency").exists()
    call_command("seed_callcenter", if_empty=True)
    assert Alarm.objects.count() == n
    client.force_login(area.operator)
    assert f'data-testid="kpi-total">{n}<' in client.get("/callcenter/kpis/").content.decode()

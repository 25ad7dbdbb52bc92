"""The live alarm badge: unacknowledged alarms of the user's own area, for roles that handle alarms."""
import pytest

from carenet.monitoring.models import Alarm
from tests.callcenter.conftest import make_alarm
from tests.factories import UserFactory


def _alarm(elder, severity="critical", status=Alarm.Status.RAISED):
    return make_alarm(elder, severity=severity, status=status)


@pytest.mark.django_db
def test_badge_counts_waiting_alarms_in_the_area(area, login):
    _alarm(area.elder_a)
    _alarm(area.elder_b, severity="high")
    _alarm(area.elder_c, status=Alarm.Status.ACKNOWLEDGED)
    street2 = UserFactory(username="op2", role="operator", division=area.street2)
    assert login(street2).get("/callcenter/badge.json").json()["waiting"] == 0  # elder_c's alarm is acknowledged
    data = login(area.operator).get("/callcenter/badge.json").json()
    assert data["waiting"] == 2 and data["critical"] == 1 and data["oldest_s"] >= 0
    page = login(area.operator).get("/people/elders/").content.decode()
    assert 'data-testid="alarm-badge"' in page and "alarm-badge.js" in page


@pytest.mark.django_db
def test_badge_is_only_for_alarm_handlers(area, login):
    assert login(area.worker_a).get("/callcenter/badge.json").status_code == 403
    assert 'data-testid="alarm-badge"' not in login(area.worker_a).get("/people/elders/").content.decode()

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from carenet.core.roles import Role
from carenet.monitoring.models import Alarm
from carenet.people.models import EmergencyContact
from tests.factories import UserFactory
from tests.browser.conftest import browser_page  # noqa: F401  (Playwright on Debian chromium)
from tests.monitoring.conftest import home, message  # noqa: F401  (fixture and helper shared with monitoring)

_keys = itertools.count(1)


def make_alarm(elder, type_="sos", *, raised_at=None, severity="critical", status="raised", **extra) -> Alarm:
    raised_at = raised_at or timezone.now()
    return Alarm.objects.create(
        elder=elder, division=elder.resident.division, type=type_, key=f"{type_}:{next(_keys)}", severity=severity,
        severity_rank=Alarm.SEVERITY_RANK[severity], message=type_, condition_at=raised_at, last_at=raised_at,
        raised_at=raised_at, status=status, **extra)


@pytest.fixture
def operator2(area):
    """A second operator of the same (district) center."""
    return UserFactory(username="operator2", role=Role.OPERATOR, division=area.district)


@pytest.fixture
def street2_operator(area):
    return UserFactory(username="op_street2", role=Role.OPERATOR, division=area.street2)


@pytest.fixture
def contacts(area):
    """Elder A's contacts in call order: the factory's first one plus two more, the third holding a key."""
    elder = area.elder_a
    EmergencyContact.objects.create(elder=elder, order=2, name="女儿", relation="女儿", phone="13900000002")
    EmergencyContact.objects.create(elder=elder, order=3, name="邻居王", relation="邻居", phone="13900000003",
                                    key_holder=True, lives_nearby=True)
    return list(elder.contacts.all())


def ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)

"""The demo seeder writes history without notifying anyone, and leaves notifications on for what follows
(it runs inside longer processes: the test suite's crawl, the demo command)."""
import pytest
from django.core.management import call_command

from carenet.civic import services

pytestmark = pytest.mark.django_db(transaction=True)


def test_seeding_turns_notifications_back_on(area):
    assert services.SEND_NOTIFICATIONS is True
    call_command("seed_civic", requests=5, community=2, wishes=1, verbosity=0)
    assert services.SEND_NOTIFICATIONS is True

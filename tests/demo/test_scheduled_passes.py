"""The demo runs the scheduled passes a deployment runs from cron: home care's tick and the 动态监测 escalation."""
import threading

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_pass_runs_home_care_and_the_risk_escalation_and_survives_a_failure(monkeypatch):
    from django.core import management

    from carenet.demo.management.commands.demo_services import Command

    ran = []

    def fake(name, **kwargs):
        ran.append(name)
        if name == "homecare_tick":
            raise RuntimeError("a failing pass must not stop the next one")

    monkeypatch.setattr(management, "call_command", fake)
    stop = threading.Event()
    stop.set()                                 # one pass, then stop
    Command._scheduled_passes(stop, every_s=0)
    assert ran == ["homecare_tick", "matching_escalate"]


def test_the_escalation_command_runs_for_real(capsys):
    from django.core.management import call_command

    call_command("matching_escalate")
    assert "escalated: 0" in capsys.readouterr().out

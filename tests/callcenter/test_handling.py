"""Claiming, calling, next-contact prompting, dispatch, close: services and the screen-pop views."""
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection

from carenet.callcenter import services
from carenet.callcenter.models import CallLog, Dispatch, OnlineService
from carenet.core.models import AuditLog
from carenet.monitoring.models import Alarm, AlarmTransition
from tests.callcenter.conftest import make_alarm

pytestmark = pytest.mark.django_db


def test_second_operator_cannot_claim_a_claimed_alarm(area, operator2):
    alarm = make_alarm(area.elder_a)
    services.claim(area.operator, alarm.pk)
    with pytest.raises(ValidationError) as exc:
        services.claim(operator2, alarm.pk)
    assert "operator1" in " ".join(exc.value.messages)
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == area.operator and alarm.status == "acknowledged"


def test_claim_endpoint_answers_409_with_the_owner_for_the_loser(area, operator2, client):
    alarm = make_alarm(area.elder_a)
    client.force_login(area.operator)
    first = client.post(f"/callcenter/alarms/{alarm.pk}/claim/", HTTP_ACCEPT="application/json")
    assert first.status_code == 200 and first.json()["url"] == f"/callcenter/alarms/{alarm.pk}/"
    client.force_login(operator2)
    second = client.post(f"/callcenter/alarms/{alarm.pk}/claim/", HTTP_ACCEPT="application/json")
    assert second.status_code == 409
    assert "operator1" in second.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_claim_race_between_two_threads_has_exactly_one_winner(area, operator2):
    alarm = make_alarm(area.elder_a)
    barrier = threading.Barrier(2)
    results = {}

    def attempt(user):
        try:
            barrier.wait(5)
            services.claim(user, alarm.pk)
            results[user.username] = "won"
        except ValidationError:
            results[user.username] = "refused"
        except OperationalError:  # SQLite: the second writer's snapshot is stale; it is refused, never applied
            results[user.username] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in (area.operator, operator2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results.values()) == ["refused", "won"], results
    winner = next(name for name, r in results.items() if r == "won")
    alarm.refresh_from_db()
    assert alarm.acknowledged_by.username == winner
    assert AlarmTransition.objects.filter(alarm=alarm, to_status="acknowledged").count() == 1


def test_only_the_claiming_operator_works_the_alarm(area, operator2):
    alarm = make_alarm(area.elder_a)
    with pytest.raises(ValidationError):  # not claimed yet
        services.log_call(area.operator, alarm.pk, "elder", "no_answer")
    services.claim(area.operator, alarm.pk)
    for action in (lambda: services.log_call(operator2, alarm.pk, "elder", "fine"),
                   lambda: services.dispatch(operator2, alarm.pk, "ambulance"),
                   lambda: services.close(operator2, alarm.pk, "false_alarm")):
        with pytest.raises(ValidationError):
            action()
    assert not CallLog.objects.exists() and not Dispatch.objects.exists()


def test_next_contact_prompts_in_call_order_until_somebody_answers(area, contacts):
    alarm = make_alarm(area.elder_a)
    services.claim(area.operator, alarm.pk)
    assert services.next_contact(alarm).step == "call_elder"
    services.log_call(area.operator, alarm.pk, "elder", "no_answer")
    prompts = []
    for _ in contacts:
        p = services.next_contact(alarm)
        prompts.append((p.step, p.contact.order, p.tried))
        services.log_call(area.operator, alarm.pk, "contact", "no_answer" if p.contact.order < 3 else "busy",
                          contact_id=p.contact.pk)
    assert prompts == [("call_contact", 1, 0), ("call_contact", 2, 1), ("call_contact", 3, 2)]
    exhausted = services.next_contact(alarm)
    assert exhausted.step == "exhausted" and exhausted.tried == 3
    services.log_call(area.operator, alarm.pk, "contact", "needs_help", contact_id=contacts[2].pk)
    assert services.next_contact(alarm).step == "reached"


def test_contact_of_another_elder_is_refused(area):
    alarm = make_alarm(area.elder_a)
    services.claim(area.operator, alarm.pk)
    other = area.elder_b.contacts.first()
    with pytest.raises(ValidationError):
        services.log_call(area.operator, alarm.pk, "contact", "fine", contact_id=other.pk)


def test_screen_pop_shows_the_next_contact_after_no_answer(area, contacts, client):
    alarm = make_alarm(area.elder_a)
    client.force_login(area.operator)
    client.post(f"/callcenter/alarms/{alarm.pk}/claim/")
    page = client.get(f"/callcenter/alarms/{alarm.pk}/").content.decode()
    assert 'data-step="call_elder"' in page
    client.post(f"/callcenter/alarms/{alarm.pk}/call/", {"callee_contact": "elder:", "outcome": "no_answer"})
    page = client.get(f"/callcenter/alarms/{alarm.pk}/").content.decode()
    assert 'data-step="call_contact"' in page and contacts[0].phone in page
    client.post(f"/callcenter/alarms/{alarm.pk}/call/", {"callee_contact": f"contact:{contacts[0].pk}", "outcome": "no_answer"})
    page = client.get(f"/callcenter/alarms/{alarm.pk}/").content.decode()
    assert 'data-step="call_contact"' in page and "女儿" in page.split('data-testid="prompt"')[1].split("</div>")[0]


def test_full_handling_is_timestamped_and_audited(area, django_capture_on_commit_callbacks):
    alarm = make_alarm(area.elder_a)
    op = area.operator
    before = AuditLog.objects.count()
    services.claim(op, alarm.pk)
    call = services.log_call(op, alarm.pk, "elder", "needs_help", note="fell in the kitchen")
    d1 = services.dispatch(op, alarm.pk, "ambulance", "120 急救中心")
    d2 = services.dispatch(op, alarm.pk, "family", "女儿")
    services.mark_arrived(op, d1.pk)
    services.add_note(op, alarm.pk, "door opened by neighbour")
    with django_capture_on_commit_callbacks(execute=True):
        services.close(op, alarm.pk, "ambulance", "taken to hospital")
    alarm.refresh_from_db()
    assert alarm.status == "resolved" and alarm.closing_code == "ambulance" and alarm.dispatched_at is not None
    d1.refresh_from_db()
    for ts in (call.ts, d1.dispatched_at, d1.arrived_at, d2.dispatched_at):
        assert ts.microsecond == 0
    assert [t.to_status for t in alarm.transitions.all()] == ["acknowledged", "dispatched", "dispatched", "resolved"]
    models = list(AuditLog.objects.order_by("id").values_list("model", flat=True)[before:])
    for m in ("monitoring.alarm", "callcenter.calllog", "callcenter.dispatch", "callcenter.alarmnote",
              "callcenter.onlineservice"):
        assert m in models, (m, models)
    assert AuditLog.objects.filter(model="callcenter.dispatch", action="update", object_id=str(d1.pk)).exists()
    svc = OnlineService.objects.get(alarm=alarm)
    assert svc.kind == "emergency" and svc.status == "done"
    kinds = [s["kind"] for s in services.timeline(alarm)]
    assert kinds.count("call") == 1 and kinds.count("dispatch") == 2 and "arrived" in kinds and "note" in kinds
    assert "notification" in kinds  # the family was told (raised, then closed)


def test_false_alarm_is_not_an_emergency_service(area, django_capture_on_commit_callbacks):
    alarm = make_alarm(area.elder_a)
    services.claim(area.operator, alarm.pk)
    services.log_call(area.operator, alarm.pk, "elder", "fine")
    with django_capture_on_commit_callbacks(execute=True):
        services.close(area.operator, alarm.pk, "false_alarm")
    assert not OnlineService.objects.exists()


def test_helper_role_has_no_console(area, client):
    alarm = make_alarm(area.elder_a)
    client.force_login(area.helper)
    assert client.get("/callcenter/").status_code == 403
    assert client.get(f"/callcenter/alarms/{alarm.pk}/").status_code in (403, 404)
    with pytest.raises(PermissionDenied):
        services.claim(area.helper, alarm.pk)
    assert Alarm.objects.get(pk=alarm.pk).status == "raised"

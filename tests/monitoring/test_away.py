"""Issue 16 in Django: registered absences (外出报备), declared device semantics reaching the engine, any home as
a log and a mapping file."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from carenet.core.models import AuditLog
from carenet.monitoring.adl import DEFAULT_ROOT, MappingError, load, load_mapped
from carenet.monitoring.ingest import ingest
from carenet.monitoring.models import AwayRecord, MonitorState
from tests.monitoring.conftest import message


def _form(start, until, **extra):
    return {"starts_at": start.strftime("%Y-%m-%dT%H:%M"), "expected_return": until.strftime("%Y-%m-%dT%H:%M"),
            "reason": "family", "reporter": "family", "reporter_name": "李女士", **extra}


@pytest.mark.django_db
def test_a_worker_registers_an_absence_and_the_rules_wait(area, home, login):
    now = timezone.localtime().replace(second=0, microsecond=0)
    client = login(area.worker_a)
    url = f"/monitoring/elders/{home.elder.pk}/away/"
    assert client.post(url, _form(now, now + dt.timedelta(days=3))).status_code == 302
    rec = AwayRecord.objects.get(elder=home.elder)
    assert rec.recorded_by == area.worker_a and rec.reporter_name == "李女士"
    row = MonitorState.objects.get(elder=home.elder)
    assert row.overrides["away_until"] == pytest.approx((now + dt.timedelta(days=3)).timestamp())
    assert AuditLog.objects.filter(model="monitoring.awayrecord", action="create").exists()
    page = client.get(f"/monitoring/elders/{home.elder.pk}/rules/").content.decode()
    assert 'data-testid="away-registered"' in page
    # staff overriding a threshold keeps the registration
    login(area.operator).post(f"/monitoring/elders/{home.elder.pk}/rules/", {"bathroom_overstay_min": "20"})
    assert "away_until" in MonitorState.objects.get(elder=home.elder).overrides
    # back home early: ended, the absence rules apply again
    assert client.post(f"/monitoring/elders/{home.elder.pk}/away/{rec.pk}/end/").status_code == 302
    rec.refresh_from_db()
    assert rec.ended_at is not None
    assert "away_until" not in MonitorState.objects.get(elder=home.elder).overrides


@pytest.mark.django_db
def test_bad_absences_get_a_chinese_message_and_other_areas_are_refused(area, home, login):
    now = timezone.localtime().replace(second=0, microsecond=0)
    client = login(area.worker_a)
    url = f"/monitoring/elders/{home.elder.pk}/away/"
    page = client.post(url, _form(now, now - dt.timedelta(hours=1)))
    assert page.status_code == 200 and "预计返回时间必须晚于外出开始时间" in page.content.decode()
    page = client.post(url, _form(now, now + dt.timedelta(days=200)))
    assert "最长 120 天" in page.content.decode()
    assert not AwayRecord.objects.exists()
    assert login(area.worker_b).post(url, _form(now, now + dt.timedelta(days=1))).status_code in (403, 404)
    assert not AwayRecord.objects.exists()


@pytest.mark.django_db
def test_declared_pulse_semantics_reach_the_engine(area, home):
    mat = home.device("mattress")
    mat.semantics, mat.hold_s = "pulse", 1800
    mat.save()
    ingest([message(mat, "bed", {"in_bed": True})])
    ingest([message(mat, "bed", {"in_bed": False}, ts=timezone.now().timestamp() + 5)])
    state = MonitorState.objects.get(elder=home.elder).state
    assert state["in_bed"] is True and state["bed_hold"] == 1800     # the off edge of a pulse means nothing


def test_a_home_given_as_a_log_and_a_mapping_file(tmp_path):
    (tmp_path / "log.txt").write_text("time\tsensor\tvalue\n2026-03-01 08:00:00\tpir1\ton\n"
                                      "2026-03-01 08:05:00\tmat\t1\n2026-03-01 08:30:00\tmat\t0\n")
    mapping = {"name": "vendor_x", "tz": "Asia/Shanghai", "log": "log.txt", "format": "events",
               "sensors": {"pir1": {"kind": "motion", "room": "kitchen", "semantics": "edge"},
                           "mat": {"kind": "bed", "room": "bedroom", "semantics": "pulse", "hold_s": 600}}}
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    ds = load_mapped(tmp_path / "m.json")
    assert [(e.kind, e.value) for e in ds.events] == [("motion", {"motion": True}), ("bed", {"in_bed": True}),
                                                      ("bed", {"in_bed": False})]
    assert ds.sensors["vendor_x-mat"].semantics == "pulse" and ds.sensors["vendor_x-mat"].hold_s == 600
    mapping["sensors"]["mat"]["kind"] = "teleporter"
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    with pytest.raises(MappingError, match="不支持的类型"):
        load_mapped(tmp_path / "m.json")


@pytest.mark.skipif(not DEFAULT_ROOT.is_dir(), reason="ADL data not present")
def test_the_mapping_of_a_development_home_reproduces_its_loader():
    from pathlib import Path
    a = load_mapped(Path(__file__).resolve().parents[2] / "docs" / "mappings" / "ordonez_a.json")
    b = load("ordonez_a")
    assert [(x.ts, x.kind, x.room) for x in a.events] == [(y.ts, y.kind, y.room) for y in b.events]
    assert len(a.activities) == len(b.activities)


@pytest.mark.django_db
def test_replay_any_home_from_a_mapping_file(area, tmp_path):
    from django.core.management import call_command

    from carenet.devices.models import Device, DeviceEvent

    (tmp_path / "log.txt").write_text("2026-03-01 08:00:00\t2026-03-01 08:03:00\tPIR\n"
                                      "2026-03-01 22:00:00\t2026-03-02 06:30:00\tMAT\n")
    (tmp_path / "m.json").write_text(json.dumps({
        "name": "vendor_y", "tz": "Asia/Shanghai", "log": "log.txt", "format": "intervals",
        "sensors": {"PIR": {"kind": "motion", "room": "kitchen"},
                    "MAT": {"kind": "bed", "room": "bedroom", "semantics": "pulse", "hold_s": 900}}}))
    call_command("replay", mapping=str(tmp_path / "m.json"), elder=area.elder_a.pk, direct=True)
    mat = Device.objects.get(elder=area.elder_a, type="mattress")
    assert (mat.semantics, mat.hold_s) == ("pulse", 900)
    assert DeviceEvent.objects.filter(device__elder=area.elder_a).count() == 6   # motion on, 2 pulses, off; bed in, out
    (tmp_path / "m.json").write_text("{not json")
    from django.core.management.base import CommandError
    with pytest.raises(CommandError, match="映射文件无法读取"):
        call_command("replay", mapping=str(tmp_path / "m.json"), elder=area.elder_a.pk, direct=True)

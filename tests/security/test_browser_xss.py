"""Stored XSS, as an attacker would try it: script payloads in every free-text field, every page opened as
each role, every chart hovered. No dialog may open and no script may even be attempted (a blocked attempt
shows up as a Content-Security-Policy violation, so the test also proves the escaping, not only the policy).

The payloads are planted generically: every text column of every CareNet model (minus codes, keys and other
machine values listed below) gets one, so a new model's free text is covered without editing this test.
Pages are found by following links from the dashboard, plus the detail pages of the seeded records.
"""
import datetime as dt
import time
from urllib.parse import urljoin, urlparse

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import timezone

from carenet.core.roles import Role
from tests.browser.conftest import browser_page  # noqa: F401 (Playwright on Debian chromium)
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = ["<img src=x onerror=alert(1)>", '"><script>alert(2)</script>', "<svg onload=alert(3)>"]
# Machine values, not free text: planting a payload there would only break the page's logic.
MACHINE = ("code", "path", "key", "hash", "token", "kind", "status", "type", "event_id", "device_id", "username",
           "password", "email", "route", "program", "starter_id", "source", "backend", "topic", "message", "state",
           "action", "model", "object_id", "channel", "callee", "unit", "relation", "sex", "fmt", "closing",
           "id_masked", "id_number", "department", "level", "hukou", "living", "care", "session", "language", "rule")
SKIP_MODELS = {"core.AuditLog"}  # append-only; its free text (notes) is written by code, shown escaped
SKIP_LINKS = ("/logout", "/static/", "/api/", "/i18n/", "/reveal-id/", "/photos/", ".xlsx", ".csv", "/bank.", "/login",
              "format=xlsx", "format=csv", "export")
MAX_PAGES_PER_ROLE = 30

INIT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});
"""

HOVER_CHARTS = """() => {
  const done = [];
  if (!window.echarts) return done;
  document.querySelectorAll('[_echarts_instance_]').forEach((el) => {
    const chart = echarts.getInstanceByDom(el);
    if (!chart) return;
    (chart.getOption().series || []).forEach((s, si) => {
      const n = Math.min((s.data || []).length, 300);
      for (let i = 0; i < n; i++) chart.dispatchAction({type: 'showTip', seriesIndex: si, dataIndex: i});
      done.push(el.id + ':' + si + ':' + n);
    });
  });
  return done;
}"""

# Resolves once every image has loaded or failed (page.evaluate runs over CDP; a string wait_for_function would
# need eval, which the CSP forbids).
IMAGES_SETTLED = """() => Promise.all([...document.images].map((i) => i.complete ? null : new Promise((r) => {
  i.addEventListener('load', r); i.addEventListener('error', r); })))"""

FIRST_POINT = """() => {
  const out = [];
  if (!window.echarts) return out;
  document.querySelectorAll('[_echarts_instance_]').forEach((el) => {
    const chart = echarts.getInstanceByDom(el);
    const s = (chart.getOption().series || [])[0];
    if (!s || !(s.data || []).length) return;
    const d = s.data[0];
    const value = d && d.value !== undefined ? d.value : d;
    let px = null;
    try { px = chart.convertToPixel({seriesIndex: 0}, value); } catch (e) {}
    if (!px || !isFinite(px[0]) || !isFinite(px[1])) return;
    const box = el.getBoundingClientRect();
    out.push([box.left + px[0], box.top + px[1]]);
  });
  return out;
}"""


def _free_text_fields(model):
    for f in model._meta.get_fields():
        if not isinstance(f, (models.CharField, models.TextField)) or not f.concrete or f.primary_key:
            continue
        if f.choices or f.unique or not f.editable or any(word in f.name for word in MACHINE):
            continue
        yield f


def plant_payloads() -> list[str]:
    """Every free-text column of every CareNet model gets a payload (cut to fit no column: too short is skipped)."""
    planted = []
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model.__name__}"
        if not model.__module__.startswith("carenet.") or label in SKIP_MODELS or model._meta.proxy:
            continue
        for i, f in enumerate(_free_text_fields(model)):
            payload = PAYLOADS[i % len(PAYLOADS)]
            if f.max_length and f.max_length < len(payload):
                continue
            if model._default_manager.update(**{f.name: payload}):
                planted.append(f"{label}.{f.name}")
    return planted


def seed(area):
    """One record behind every kind of page: devices and sensor history, an alarm with a call and a note, an
    assistance case, a grid report, a referral, a relatives declaration and a published Q&A."""
    from carenet.assistance import services as asv
    from carenet.callcenter.models import AlarmNote, CallLog
    from carenet.devices.models import DeviceEvent
    from carenet.devices.services import provision_demo_home
    from carenet.policy.models import QAPair
    from tests.callcenter.conftest import make_alarm

    area.approver = UserFactory(username="approver_x", role=Role.APPROVER, division=area.district)
    r = area.elder_a.resident
    r.lat, r.lon = 31.86, 117.28
    r.save()
    now = timezone.now()
    for d in provision_demo_home(area.elder_a, wristband=True):
        for k in range(3):
            DeviceEvent.objects.create(device=d, event_id=f"x-{d.pk}-{k}", kind="motion" if k % 2 else "door",
                                       ts=now - dt.timedelta(minutes=10 * k + 1), received=now,
                                       value={"motion": bool(k % 2), "open": bool(k % 2)})
    alarm = make_alarm(area.elder_a)
    CallLog.objects.create(alarm=alarm, operator=area.operator, callee=CallLog.Callee.values[0], callee_name="x",
                           phone="1", outcome=CallLog.Outcome.values[0], note="x")
    AlarmNote.objects.create(alarm=alarm, author=area.operator, text="x")
    asv.seed_default_standards(area.district)
    case = asv.intake(area.worker_a, program="dibao_urban", applicant=area.elder_a.resident, reason="x")
    asv.record_survey(area.worker_a, case, visited_on=dt.date.today(), visitors="x", notes="x", facts={})
    asv.grid_report(area.worker_a, applicant=area.elder_a.resident, route="dibao_urban", description="x")
    asv.refer(area.worker_a, resident=area.elder_a.resident, department="housing", need="x")
    QAPair.objects.create(question="x", answer="x", status=QAPair.Status.PUBLISHED, published_at=now)
    return {"alarm": alarm, "case": case}


def _login_cookie(user):
    c = Client()
    c.force_login(user)
    return c.cookies["sessionid"].value


def crawl(page, base, start, fired, violations):
    seen, queue, visited = set(start), list(start), []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        resp = page.goto(base + url)
        visited.append(url)
        if resp is None or resp.status >= 400:
            continue
        page.wait_for_load_state("load")
        for x, y in page.evaluate(FIRST_POINT):
            page.mouse.move(x, y)
        page.evaluate(HOVER_CHARTS)
        # img onerror fires when the image has failed: wait until every image settled (an event, not a sleep).
        page.evaluate(IMAGES_SETTLED)
        for v in page.evaluate("window.__csp"):
            violations.append(f"{url}: {v}")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urlparse(urljoin(base + url, href))
            if target.netloc != urlparse(base).netloc or any(s in f"{target.path}?{target.query}" for s in SKIP_LINKS):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen and "page=" not in target.query:
                seen.add(link)
                queue.append(link)
    return visited


def test_no_page_runs_what_users_typed(area, live_server, browser_page, artifacts):
    objs = seed(area)
    planted = plant_payloads()
    for must in ("people.Resident.name", "people.Resident.address", "people.ElderProfile.notes",
                 "devices.Device.room", "assistance.GridReport.description", "policy.QAPair.question",
                 "policy.QAPair.answer", "callcenter.AlarmNote.text", "core.Division.name"):
        assert must in planted, (must, planted)
    page = browser_page
    page.context.add_init_script(INIT)
    fired = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    violations = []
    alarm, case = objs["alarm"], objs["case"]
    details = [f"/people/elders/{area.elder_a.pk}/", f"/people/elders/{area.elder_a.pk}/edit/",
               f"/callcenter/alarms/{alarm.pk}/", f"/assistance/cases/{case.pk}/",
               f"/monitoring/elders/{area.elder_a.pk}/rules/", "/policy/?q=x", "/policy/qa/"]
    report = {}
    started = time.time()
    for user in (area.operator, area.admin, area.worker_a, area.reviewer, area.approver, area.supervisor, area.helper):
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "sessionid", "value": _login_cookie(user), "url": live_server.url}])
        report[user.username] = crawl(page, live_server.url, ["/", *details], fired, violations)
    page.goto(live_server.url + f"/callcenter/alarms/{alarm.pk}/")
    page.screenshot(path=str(artifacts / "security-xss-alarm.png"), full_page=True)
    print({k: len(v) for k, v in report.items()}, f"{time.time() - started:.1f}s")
    assert len(report["operator1"]) >= 8 and len(report["admin1"]) >= 15
    assert fired == []
    assert violations == []

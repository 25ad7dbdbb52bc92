"""The URL sweep (issue 9 §3), generated from the URL resolver so new pages are covered automatically:

- every pattern is classified: public, any signed-in user, or capability-checked; patterns with an object id
  name how to make an object of another area (tests/security/sweep.py);
- an anonymous visitor gets the login page (or 401/403 from the API) everywhere but the public pages;
- a signed-in user without any capability gets 403 everywhere but the public and login-only pages (404 is
  accepted for pages with an object id: the object is also out of the user's area);
- a user who has every capability, but whose area is street 1, gets 404 for every object of street 2, by GET and
  by POST, and nothing about it changes.
"""
import pytest
from django.test import Client

from carenet.core import roles
from tests.factories import UserFactory
from tests.security.sweep import (LOGIN_ONLY, NOT_AREA_SCOPED, OBJECTS, PENDING, PUBLIC, Foreign, all_patterns, fill,
                                  params)

pytestmark = pytest.mark.django_db


def _call(client, url):
    """GET, or POST when the view only takes POST; the first answer that is not 405."""
    r = client.get(url)
    if r.status_code == 405:
        r = client.post(url, {})
    return r


def test_every_pattern_is_classified():
    routes = all_patterns()
    assert len(routes) > 50
    unknown = [r for r in routes if params(r) and r not in OBJECTS and r not in PUBLIC and r not in PENDING]
    assert unknown == [], ("a new URL with an object id: add to tests/security/sweep.py OBJECTS how to make an "
                           "object of another area, or to NOT_AREA_SCOPED why it has none", unknown)
    stale = [r for r in [*PUBLIC, *LOGIN_ONLY, *NOT_AREA_SCOPED, *OBJECTS, *PENDING] if r not in routes]
    assert stale == [], ("allowlist entries for URLs that no longer exist", stale)


@pytest.fixture
def foreign(area):
    return Foreign(area)


def _urls(foreign):
    for route in all_patterns():
        if route in PUBLIC:
            continue
        if route in PENDING:  # no object of its own yet: a nonexistent id still must not answer to strangers
            yield route, fill(route, {p: 99999999 for p in params(route)})
            continue
        values = OBJECTS[route](foreign) if params(route) else {}
        yield route, fill(route, values)


def test_anonymous_visitors_get_the_login_page(foreign):
    client = Client()
    bad = []
    for route, url in _urls(foreign):
        if route in PUBLIC:
            continue
        r = _call(client, url)
        ok = ((r.status_code == 302 and "/login/" in r["Location"]) or (route.startswith("api/") and r.status_code in (401, 403))
              or (params(route) and r.status_code == 404))  # an object page may also answer 404: nothing is told
        if not ok:
            bad.append((url, r.status_code))
    assert bad == []


def test_a_user_without_capabilities_gets_403(area, foreign, monkeypatch):
    monkeypatch.setitem(roles.CAPABILITIES, "nobody", set())
    user = UserFactory(username="nobody_a", role="nobody", division=area.comm_a)
    client = Client()
    client.force_login(user)
    bad = []
    for route, url in _urls(foreign):
        if route in PUBLIC or route in LOGIN_ONLY:
            continue
        r = _call(client, url)
        allowed = {403, 404} if params(route) else {403}
        if r.status_code not in allowed:
            bad.append((url, r.status_code))
    assert bad == []


def test_another_area_gets_404_for_every_object(area, foreign, monkeypatch):
    everything = set().union(*roles.CAPABILITIES.values())
    monkeypatch.setitem(roles.CAPABILITIES, "everything", everything)
    user = UserFactory(username="everything_1", role="everything", division=area.street1)
    client = Client()
    client.force_login(user)
    swept, bad = [], []
    for route in all_patterns():
        if not params(route) or route in PUBLIC or route in NOT_AREA_SCOPED or route in PENDING:
            continue
        url = fill(route, OBJECTS[route](foreign))
        codes = {client.get(url).status_code, client.post(url, {}).status_code}
        swept.append(url)
        if not codes <= {404, 405} or 404 not in codes:
            bad.append((url, codes))
    assert len(swept) >= 15
    assert bad == []
    # nothing about street 2's records changed
    foreign.alarm.refresh_from_db()
    foreign.case.refresh_from_db()
    foreign.report.refresh_from_db()
    assert foreign.alarm.status == "raised" and foreign.case.state == "accepted" and foreign.report.status == "new"


def test_the_same_user_reaches_its_own_area(area, monkeypatch):
    """The sweep's 404s are about the area, not a broken user: the same user opens street 1's elder."""
    monkeypatch.setitem(roles.CAPABILITIES, "everything", set().union(*roles.CAPABILITIES.values()))
    user = UserFactory(username="everything_2", role="everything", division=area.street1)
    client = Client()
    client.force_login(user)
    assert client.get(f"/people/elders/{area.elder_a.pk}/").status_code == 200
    assert client.get(f"/api/people/elders/{area.elder_a.pk}").status_code == 200

"""Schemathesis over the whole OpenAPI schema, in-process through the WSGI handler: no generated request may get
a 5xx. Bounded: a fixed number of examples per operation, derandomized (the same cases each run), no deadline.
Runs as a logged-in district administrator (sees everything, so the queries do real work) on the test database."""
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from carenet.api import api

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()
MAX_EXAMPLES = 25


@pytest.fixture
def session_cookie(area):
    c = Client()
    c.force_login(area.admin)
    return c.cookies["sessionid"].value


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The WSGI handler closes the database connection after each request (as in production); inside a test
    that would close the test's transaction. Django's own test Client disconnects the same signal."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, session_cookie):
    case.call_and_validate(headers={"Cookie": f"sessionid={session_cookie}"}, checks=[not_a_server_error])


@pytest.mark.parametrize("params", [{"offset": -1}, {"offset": 10**30}, {"limit": 10**30}, {"q": "a\x00b"},
                                    {"division": "\x00"}, {"limit": "abc"}])
def test_bad_list_parameters_get_a_4xx(area, login, params):
    r = login(area.admin).get("/api/people/elders", params)
    assert 400 <= r.status_code < 500, r.content


def test_huge_elder_id_is_a_4xx(area, login):
    assert 400 <= login(area.admin).get(f"/api/people/elders/{10**30}").status_code < 500

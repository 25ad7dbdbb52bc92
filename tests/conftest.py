"""Shared fixtures, and the rules for tests that need real services.

Tests marked `postgres`, `mqtt`, `nats` or `browser` run when the service is there and are skipped with a clear
reason when it is not. With CI=true (or CARENET_REQUIRE_SERVICES=postgres,mqtt,nats,browser) a missing service
is a failure instead of a skip, so CI cannot pass while quietly skipping them.
"""
import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def pytest_configure(config):
    from django.conf import settings

    # Persistent connections from live-server threads would keep the test database open at teardown.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("CARENET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def required_services() -> set[str]:
    raw = os.environ.get("CARENET_REQUIRE_SERVICES")
    if raw is None and os.environ.get("CI") == "true":
        raw = "postgres,mqtt,nats,browser"
    return {s.strip() for s in (raw or "").split(",") if s.strip()}


def mqtt_url() -> str | None:
    url = os.environ.get("CARENET_TEST_MQTT_URL")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=0.5).close()
        return "mqtt://127.0.0.1:1883"
    except OSError:
        return None


def service_missing(name: str) -> str | None:
    """None when the service is usable, else the reason it is not."""
    if name == "postgres":
        from django.conf import settings

        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            return ("PostgreSQL tests skipped: the suite runs on SQLite. Set CARENET_DATABASE_URL="
                    "postgres://postgres@127.0.0.1:5432/carenet (the README test command does this when PostgreSQL answers).")
    if name == "mqtt" and mqtt_url() is None:
        return "MQTT tests skipped: no broker on 127.0.0.1:1883 and CARENET_TEST_MQTT_URL is not set."
    if name == "nats":
        from carenet.monitoring.localnats import nats_server_binary

        if nats_server_binary() is None:
            return "NATS tests skipped: no nats-server binary (apt-get install nats-server); they start a private one."
    if name == "browser" and not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)."
    return None


def pytest_collection_modifyitems(config, items):
    required = required_services()
    for item in items:
        for name in ("postgres", "mqtt", "nats", "browser"):
            if item.get_closest_marker(name) is None:
                continue
            reason = service_missing(name)
            if reason is None:
                continue
            if name in required:
                item.add_marker(pytest.mark.usefixtures("_fail_missing_service"))
                item.user_properties.append(("missing_service", reason))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_missing_service(request):
    reasons = [v for k, v in request.node.user_properties if k == "missing_service"]
    pytest.fail("required service missing on CI: " + "; ".join(reasons))


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Scrypt is the production hasher (tested in test_auth); tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Area:
    """district → street1 → (community A, community B); district → street2 → community C."""


@pytest.fixture
def area(db):
    from carenet.core.models import Division
    from carenet.core.roles import Role
    from tests.factories import ElderFactory, ResidentFactory, UserFactory

    a = Area()
    a.district = Division.objects.create(code="340899000000", name="测试区", level=1)
    a.street1 = Division.objects.create(code="340899001000", name="一街道", level=2, parent=a.district)
    a.street2 = Division.objects.create(code="340899002000", name="二街道", level=2, parent=a.district)
    a.comm_a = Division.objects.create(code="340899001001", name="甲社区", level=3, parent=a.street1)
    a.comm_b = Division.objects.create(code="340899001002", name="乙社区", level=3, parent=a.street1)
    a.comm_c = Division.objects.create(code="340899002001", name="丙社区", level=3, parent=a.street2)
    a.elder_a = ElderFactory(resident=ResidentFactory(division=a.comm_a, name="甲老人"))
    a.elder_b = ElderFactory(resident=ResidentFactory(division=a.comm_b, name="乙老人"))
    a.elder_c = ElderFactory(resident=ResidentFactory(division=a.comm_c, name="丙老人"))
    a.worker_a = UserFactory(username="worker_a", role=Role.WORKER, division=a.comm_a)
    a.worker_b = UserFactory(username="worker_b", role=Role.WORKER, division=a.comm_b)
    a.reviewer = UserFactory(username="reviewer1", role=Role.REVIEWER, division=a.street1)
    a.admin = UserFactory(username="admin1", role=Role.DISTRICT_ADMIN, division=a.district)
    a.operator = UserFactory(username="operator1", role=Role.OPERATOR, division=a.district)
    a.helper = UserFactory(username="helper1", role=Role.HELPER, division=a.street1)
    a.supervisor = UserFactory(username="supervisor1", role=Role.SUPERVISOR, division=a.district)
    return a


@pytest.fixture
def subprocess_env(transactional_db):
    """Environment for a `manage.py` subprocess that works on this test's database."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ, CARENET_DATABASE_URL=url, CARENET_SECRET_KEY=settings.SECRET_KEY,
               CARENET_PII_KEY=settings.PII_KEY, PYTHONUNBUFFERED="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client
    return _login


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Live-server and WebSocket threads keep connections open; end them so the test database can be dropped."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            from django.db import OperationalError

            try:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            except OperationalError:  # a run that set up no test database (the gates alone): nothing to end
                pass


@pytest.fixture(autouse=True)
def _client_login_with_request(monkeypatch):
    """django-axes needs the request to throttle by address; Client.login() authenticates without one."""
    from django.http import HttpRequest
    from django.test import Client

    original = Client.login

    def login(self, **credentials):
        if "request" not in credentials:
            request = HttpRequest()
            request.META["REMOTE_ADDR"] = "127.0.0.1"
            credentials["request"] = request
        return original(self, **credentials)

    monkeypatch.setattr(Client, "login", login)

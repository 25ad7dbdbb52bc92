"""Live-system helpers for the call-center end-to-end test and bench/console_latency.py: the ingest worker
and a daphne web server as subprocesses, and an MQTT publisher (QoS 1) on the real broker."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from carenet.monitoring.localbroker import PrivateBroker, Publisher, free_port, mosquitto_available  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


class PrivateMosquitto(PrivateBroker):
    """A Mosquitto of our own on a free port. The shared broker on 1883 carries other sessions' test and
    simulator traffic, and demo device ids and tokens are the same everywhere on one machine, so a worker
    subscribed there would ingest other runs' SOS presses (and others would ingest ours)."""

    available = staticmethod(mosquitto_available)


def sos_payload(device_id: str, token: str, event_id: str | None = None, ts: float | None = None) -> bytes:
    return json.dumps({"token": token, "events": [
        {"id": event_id or f"sos-{uuid.uuid4().hex[:10]}", "ts": ts or time.time(), "kind": "sos", "value": {}}]}).encode()


def start_worker(env: dict, url: str, client_id: str, log_path: Path, timeout: float = 30) -> subprocess.Popen:
    """The ingest worker, returned once the broker has its subscription (its log says "subscribed to")."""
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "ingest", "--mqtt", url, "--client-id", client_id],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "subscribed to" in log_path.read_text():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("ingest worker did not connect: " + log_path.read_text()[-2000:])


def start_web(env: dict, log_path: Path, timeout: float = 30, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """daphne serving carenet.asgi on a free port (or `port`); returns (process, base URL) once /healthz answers."""
    port = port or free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "carenet.asgi:application"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("daphne did not start: " + log_path.read_text()[-2000:])


def stop(*procs) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def release_database(timeout: float = 10) -> None:
    """Call at the end of a test that drove Playwright's sync API and subprocesses on PostgreSQL.

    The test body runs in Playwright's greenlet, whose context has its own Django connection, separate from
    the fixtures' one: close it, or dropping the test database fails. PostgreSQL also ends a backend only a
    moment after its client process exits, so wait until just the fixtures' session is left."""
    from django.db import connection

    if connection.vendor == "postgresql":
        deadline = time.time() + timeout
        while time.time() < deadline:
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
                if cur.fetchone()[0] <= 1:
                    break
            time.sleep(0.1)
    connection.close()

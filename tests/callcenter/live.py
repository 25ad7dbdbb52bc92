"""Live-system helpers for the call-center end-to-end test and bench/console_latency.py: the ingest worker
and a daphne web server as subprocesses, and an MQTT publisher (QoS 1) on the real broker."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sos_payload(device_id: str, token: str, event_id: str | None = None, ts: float | None = None) -> bytes:
    return json.dumps({"token": token, "events": [
        {"id": event_id or f"sos-{uuid.uuid4().hex[:10]}", "ts": ts or time.time(), "kind": "sos", "value": {}}]}).encode()


class Publisher:
    def __init__(self, url: str):
        host, port = url.split("://")[-1].split(":")
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"cc-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.connect(host, int(port))
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, wait: bool = True):
        info = self.client.publish(topic, payload, qos=1)
        if wait:
            info.wait_for_publish(timeout=10)
        return info

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def start_worker(env: dict, url: str, client_id: str, log_path: Path, timeout: float = 30) -> subprocess.Popen:
    """The ingest worker, returned once it has subscribed (its log says "connected")."""
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "ingest", "--mqtt", url, "--client-id", client_id],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "connected" in log_path.read_text():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("ingest worker did not connect: " + log_path.read_text()[-2000:])


def start_web(env: dict, log_path: Path, timeout: float = 30) -> tuple[subprocess.Popen, str]:
    """daphne serving carenet.asgi on a free port; returns (process, base URL) once /healthz answers."""
    port = free_port()
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

"""A local Mosquitto process (tests, benchmarks, and the demo when no broker runs) and a small publisher.

PrivateBroker keeps its queue on disk, so a stop and start keeps queued QoS 1 messages."""
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


SHIPPED_CONF = Path(__file__).resolve().parents[3] / "deploy" / "mosquitto.conf"
_LOCAL_ONLY = ("listener", "persistence_location", "log_dest", "user", "allow_anonymous", "persistence ")


def shipped_durability_settings(path: Path = SHIPPED_CONF) -> str:
    """The shipped broker config (deploy/mosquitto.conf) without what is local to a machine (port, paths)."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return "".join(ln + "\n" for ln in lines if not ln.startswith(_LOCAL_ONLY))


def conf_value(settings: str, key: str) -> str | None:
    for line in settings.splitlines():
        parts = line.split()
        if parts and parts[0] == key:
            return parts[1]
    return None


class PrivateBroker:
    """A Mosquitto process with on-disk persistence, so a stop and start keeps queued QoS 1 messages.
    `settings` are extra mosquitto.conf lines (e.g. shipped_durability_settings())."""

    def __init__(self, workdir: Path, settings: str = "", port: int | None = None):
        self.fixed_port = port is not None  # a port range given to this process (benchmarks): never another
        self.port = port or free_port()
        self.dir = workdir
        self.conf = workdir / "mosquitto.conf"
        base = (f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                f"persistence_location {workdir}/\nlog_dest file {workdir}/mosquitto.log\n"
                # Started as root, Mosquitto would drop to its own user, which cannot write into this test dir.
                + ("user root\n" if os.geteuid() == 0 else ""))
        if conf_value(settings, "max_queued_messages") is None:
            base += "max_queued_messages 0\nmax_inflight_messages 0\n"
        self.settings = settings
        self.conf.write_text(base + settings)
        self.proc = None
        self.started_once = False

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> "PrivateBroker":
        """Start Mosquitto and make sure the listener is this process's: a port picked by free_port() can be
        taken meanwhile by another test run's broker, and talking to that one would mix two tests."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        log = self.dir / "mosquitto.log"
        for _ in range(5):
            offset = log.stat().st_size if log.exists() else 0
            self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            deadline = time.time() + 10
            while time.time() < deadline and self.proc.poll() is None:
                text = log.read_bytes()[offset:] if log.exists() else b""
                if f"listen socket on port {self.port}".encode() in text:
                    wait_port(self.port)
                    self.started_once = True
                    return self
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
            if self.started_once or self.fixed_port:  # a restart must keep its port (clients reconnect to it)
                break
            old = self.port
            self.port = free_port()
            self.conf.write_text(self.conf.read_text().replace(f"listener {old} ", f"listener {self.port} "))
        raise RuntimeError(f"mosquitto did not start on port {self.port}; see {log}")

    def kill(self) -> None:
        """SIGKILL: no chance to write the persistence file (a crash, an OOM kill, a power cut)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Mosquitto writes its persistence file on the way out
            self.proc.wait(timeout=10)


def mosquitto_available() -> bool:
    return bool(shutil.which("mosquitto") or os.path.exists("/usr/sbin/mosquitto"))


class Publisher:
    def __init__(self, url: str):
        host, port = url.split("://")[-1].split(":")
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"test-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.reconnect_delay_set(0.2, 1)
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


def measure_crash_loss(workdir: Path, settings: str, messages: int = 300, backlog: int = 0,
                       settle: float = 1.0) -> dict:
    """Queue `messages` QoS 1 messages (each acknowledged by the broker) for an offline persistent session,
    SIGKILL the broker, start it again and count what the session still receives. `backlog` messages are
    queued (and saved) first, to show what each autosave costs with a long queue."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    broker = PrivateBroker(workdir, settings).start()
    client_id = f"crash-sub-{uuid.uuid4().hex[:8]}"
    received: set[bytes] = set()
    subscribed = threading.Event()

    def session():
        c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                        protocol=mqtt.MQTTv5)
        c.on_subscribe = lambda *a: subscribed.set()
        c.on_message = lambda client, userdata, msg: received.add(msg.payload)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
        c.loop_start()
        return c

    try:
        sub = session()
        sub.subscribe("crash/#", qos=1)
        if not subscribed.wait(10):
            raise TimeoutError("no SUBACK")
        sub.disconnect()
        sub.loop_stop()
        pub = Publisher(broker.url)
        for i in range(backlog):
            pub.publish("crash/backlog", f"b{i}".encode(), wait=i == backlog - 1)
        if backlog:
            broker.stop()  # a clean stop saves the backlog: only the messages below are at risk
            broker.start()
            pub.close()
            pub = Publisher(broker.url)
        started = time.perf_counter()
        for i in range(messages):
            pub.publish("crash/events", f"m{i}".encode())  # waits for the broker's PUBACK
        publish_s = time.perf_counter() - started
        pub.close()
        broker.kill()
        broker.start()
        sub = session()
        last, count = time.monotonic(), -1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until nothing more arrives for `settle` seconds
            if len(received) != count:
                count, last = len(received), time.monotonic()
            elif time.monotonic() - last > settle:
                break
            time.sleep(0.05)
        sub.disconnect()
        sub.loop_stop()
    finally:
        broker.stop()
    recovered = sum(1 for p in received if p.startswith(b"m"))
    return {"published": messages, "recovered": recovered, "lost": messages - recovered,
            "backlog_recovered": sum(1 for p in received if p.startswith(b"b")), "publish_s": publish_s}

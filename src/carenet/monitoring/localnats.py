"""A private nats-server with JetStream, its MQTT listener and the partition mapping (tests and benchmarks).

Its configuration is deploy/nats/carenet.conf with the ports, store directory and partition count replaced,
so the tests run what is shipped."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from carenet.monitoring.localbroker import wait_port
from carenet.monitoring.subjects import nats_mappings

SHIPPED_CONF = Path(__file__).resolve().parents[3] / "deploy" / "nats" / "carenet.conf"


def nats_server_binary() -> str | None:
    return shutil.which("nats-server") or next((p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server")
                                                if os.path.exists(p)), None)


def config_text(port: int, mqtt_port: int | None, store_dir: Path, partitions: int) -> str:
    """The shipped config with this instance's ports, store and partition count."""
    text = SHIPPED_CONF.read_text()
    text = re.sub(r"(?m)^listen:.*$", f"listen: 127.0.0.1:{port}", text)
    text = re.sub(r'(?m)^(\s*)store_dir:.*$', rf'\1store_dir: "{store_dir}"', text)
    text = re.sub(r"(?m)^server_name:.*$", f"server_name: carenet-test-{port}", text)
    if mqtt_port is None:
        text = re.sub(r"(?ms)^mqtt \{.*?^\}\n", "", text)
    else:
        text = re.sub(r"(?m)^(\s*)listen: 0\.0\.0\.0:1883.*$", rf"\1listen: 127.0.0.1:{mqtt_port}", text)
    mappings = "".join(f'  "{src}": "{dst}"\n' for src, dst in nats_mappings(partitions).items())
    return re.sub(r"(?ms)^mappings = \{.*?^\}", "mappings = {\n" + mappings + "}", text)


class PrivateNats:
    def __init__(self, workdir: Path, port: int, mqtt_port: int | None = None, partitions: int = 16):
        self.dir = Path(workdir)
        self.port, self.mqtt_port, self.partitions = port, mqtt_port, partitions
        self.conf = self.dir / "nats.conf"
        self.conf.write_text(config_text(port, mqtt_port, self.dir / "js", partitions))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    def start(self) -> "PrivateNats":
        binary = nats_server_binary()
        if binary is None:
            raise RuntimeError("nats-server is not installed")
        log = open(self.dir / "nats.log", "ab")
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_port(self.port, 20)
        if self.mqtt_port:
            wait_port(self.mqtt_port, 20)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

import json
import time

import pytest

from carenet.devices.models import demo_token
from carenet.devices.services import provision_demo_home
from carenet.monitoring.ingest import RawMessage


@pytest.fixture
def home(area):
    """Elder A's home, fitted with the standard kit plus a wristband."""
    devices = {d.device_id: d for d in provision_demo_home(area.elder_a, wristband=True)}

    def device(type_, room=None):
        return next(d for d in devices.values() if d.type == type_ and (room is None or d.room == room))

    class Home:
        elder = area.elder_a
        pass

    h = Home()
    h.device = device
    h.devices = devices
    return h


def message(device, kind, value=None, *, event_id=None, ts=None, token=None, extra=None) -> RawMessage:
    body = {"token": token if token is not None else demo_token(device.device_id),
            "events": [{"id": event_id or f"ev-{time.time_ns()}", "ts": ts if ts is not None else time.time(),
                        "kind": kind, "value": value or {}, **(extra or {})}]}
    return RawMessage(json.dumps(body).encode(), "mqtt", f"carenet/v1/dev/{device.device_id}/up")

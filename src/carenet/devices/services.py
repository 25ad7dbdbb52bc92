"""Device registration. The token is shown once; only its hash is stored."""
from __future__ import annotations

from django.db import transaction

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.devices.models import Device, demo_token, hash_token
from carenet.core.permissions import require, require_in_area

# A typical home kit (智能居家套装): what the demo and the simulator install in each home.
HOME_KIT = [
    ("pir", "bedroom", ""), ("pir", "living", ""), ("pir", "kitchen", ""), ("pir", "bathroom", ""),
    ("door", "hall", "entrance"), ("door", "kitchen", "fridge"), ("door", "bathroom", "bathroom"),
    ("mattress", "bedroom", ""), ("smoke", "kitchen", ""), ("water_leak", "bathroom", ""),
    ("sos_button", "bedroom", ""), ("gateway", "hall", ""),
]


@transaction.atomic
def register_device(user, elder, device_id: str, type: str, room: str = "", role: str = "", vendor=None, *,
                    semantics: str = "state", hold_s: int | None = None) -> tuple[Device, str]:
    require(user, "devices.manage")
    require_in_area(user, elder.resident.division)
    device = Device(device_id=device_id, type=type, elder=elder, room=room, role=role, vendor=vendor,
                    semantics=semantics or "state", hold_s=hold_s if semantics == "pulse" else None)
    token = device.issue_token()
    device.full_clean(exclude=["token_hash"])
    device.save()
    audit.record(AuditLog.Action.CREATE, device, actor=user, after=audit.snapshot(device),
                 division_path=elder.resident.division.path)
    return device, token


def provision_demo_home(elder, wristband: bool = False) -> list[Device]:
    """Install the home kit for a synthetic elder, with tokens derived from the secret key (demo only)."""
    kit = HOME_KIT + ([("wristband", "", "")] if wristband else [])
    devices = []
    for i, (type_, room, role) in enumerate(kit):
        device_id = f"E{elder.pk}-{type_}-{room or 'body'}-{i}"
        devices.append(Device(device_id=device_id, type=type_, elder=elder, room=room, role=role,
                              token_hash=hash_token(demo_token(device_id))))
    Device.objects.bulk_create(devices, ignore_conflicts=True)
    return list(Device.objects.filter(elder=elder))

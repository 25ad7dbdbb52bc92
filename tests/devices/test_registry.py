"""The device registry: registration needs devices.manage in the elder's area, stores only the token's hash,
is audited; the device list is scoped to the user's area."""
import pytest

from carenet.core.models import AuditLog
from carenet.core.permissions import Denied
from carenet.devices.models import Device, hash_token
from carenet.devices.services import register_device
from tests.factories import DeviceFactory


def test_register_stores_the_hash_and_audits(area):
    device, token = register_device(area.operator, area.elder_a, "GW-0001", "gateway", room="hall")
    device.refresh_from_db()
    assert device.token_hash == hash_token(token) and token not in device.token_hash
    assert AuditLog.objects.filter(action="create", model="devices.device", object_id=str(device.pk)).exists()


def test_register_is_refused_without_the_capability_or_outside_the_area(area):
    with pytest.raises(Denied):
        register_device(area.worker_a, area.elder_a, "GW-0002", "gateway")  # workers may view, not manage
    street2_admin = area.admin.__class__.objects.create(username="op2", role=area.operator.role,
                                                        division=area.comm_c)
    with pytest.raises(Denied):
        register_device(street2_admin, area.elder_a, "GW-0003", "gateway")
    assert not Device.objects.filter(device_id__in=["GW-0002", "GW-0003"]).exists()


def test_devices_are_visible_only_in_the_users_area(area):
    a, c = DeviceFactory(elder=area.elder_a), DeviceFactory(elder=area.elder_c)
    assert list(Device.objects.visible_to(area.worker_a)) == [a]
    assert set(Device.objects.visible_to(area.admin)) == {a, c}

"""The trainer's button (demo mode only): a simulated home presses SOS now, through the real device path.

A new operator can practise at once instead of waiting for the simulator's random emergencies. The press goes
over MQTT to the running ingest worker when a broker answers, else through the same ingest() in-process.
"""
from __future__ import annotations

import os
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core.permissions import needs
from carenet.demo.runner import DirectSink, broker_answers, payload
from carenet.demo.simulator import SimEvent
from carenet.devices.models import Device
from carenet.monitoring.worker import parse_mqtt_url
from carenet.people.models import ElderProfile

SOS_TYPES = ("sos_button", "sos_phone")


def pick_simulated_sos_device(user) -> Device | None:
    """A random SOS button of a simulated home (demo kits are named E<elder>-…) in the user's area."""
    return (Device.objects.filter(active=True, type__in=SOS_TYPES, device_id__startswith="E",
                                  elder__in=ElderProfile.objects.visible_to(user))
            .select_related("elder__resident").order_by("?").first())


def press_sos(device: Device) -> str:
    """Send one SOS press for `device`; returns the path it took ("mqtt" or "embedded")."""
    event = SimEvent(time.time(), device.device_id, "sos", {}, f"trainer-{uuid.uuid4().hex[:12]}")
    url = os.environ.get("CARENET_MQTT_URL", "mqtt://127.0.0.1:1883")
    if broker_answers(url):
        import paho.mqtt.publish as publish

        host, port = parse_mqtt_url(url)
        publish.single(f"carenet/v1/dev/{device.device_id}/up", payload(device.device_id, [event]), qos=1,
                       hostname=host, port=port)
        return "mqtt"
    DirectSink().send([event])
    return "embedded"


@needs("alarms.handle")
@require_POST
def trainer_sos(request):
    if not settings.DEMO:
        raise Http404
    device = pick_simulated_sos_device(request.user)
    if device is None:
        messages.error(request, _("No simulated home in your area has an SOS button. Start the demo services first."))
    else:
        press_sos(device)
        messages.success(request, _("Practice: %(name)s has just pressed the SOS button. The alarm arrives in the live queue "
                                    "within a second.") % {"name": device.elder.resident.name})
    return redirect("callcenter:console")

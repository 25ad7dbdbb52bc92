"""Display labels for alarm types, event kinds, rooms and closing codes (monitoring owns these codes)."""
from django.utils.translation import gettext_lazy as _

from carenet.monitoring.alarms import CLOSING_CODES, DISPATCH_TARGETS  # noqa: F401  (labels of the lifecycle)

ALARM_TYPES = {
    "sos": _("SOS button"),
    "fall": _("Fall detected"),
    "smoke": _("Smoke"),
    "water_leak": _("Water leak"),
    "inactivity": _("Long inactivity"),
    "bathroom_overstay": _("Too long in the bathroom"),
    "no_routine": _("No normal daily routine"),
    "night_out_of_bed": _("Out of bed at night"),
    "routine_deviation": _("Unusual routine"),
    "geofence_exit": _("Left the safe area"),
    "device_offline": _("Device offline"),
    "low_battery": _("Low battery"),
    "sos_test_overdue": _("SOS test overdue"),
    "vitals_high_heart_rate": _("High heart rate"),
    "vitals_low_heart_rate": _("Low heart rate"),
    "vitals_high_bp_sys": _("High blood pressure"),
    "vitals_low_bp_sys": _("Low blood pressure"),
    "vitals_high_bp_dia": _("High diastolic pressure"),
    "vitals_low_bp_dia": _("Low diastolic pressure"),
    "vitals_high_spo2": _("High blood oxygen"),
    "vitals_low_spo2": _("Low blood oxygen"),
    "vitals_high_breath_rate": _("High breathing rate"),
    "vitals_low_breath_rate": _("Low breathing rate"),
    "air_high_co2": _("High CO2 in the room"),
    "air_high_pm25": _("High PM2.5 in the room"),
    "no_vital_signs": _("No breathing or heart rate in bed"),
    "away_overdue": _("Not back from a registered absence"),
}

#: Alarm types that concern the elder (families are told); device-care alarms go to staff only.
DEVICE_CARE_TYPES = frozenset({"device_offline", "low_battery", "sos_test_overdue"})

EVENT_KINDS = {
    "motion": _("motion"), "door": _("door"), "seat": _("seat"), "appliance": _("appliance"),
    "toilet_flush": _("toilet flush"), "smoke": _("smoke"), "water_leak": _("water leak"), "bed": _("bed"),
    "vitals": _("vitals"), "gps": _("location"), "sos": _("SOS"), "sos_test": _("SOS test"), "fall": _("fall"),
    "heartbeat": _("heartbeat"),
    "air": _("air quality"),
}

ROOMS = {
    "bedroom": _("bedroom"), "living": _("living room"), "kitchen": _("kitchen"), "bathroom": _("bathroom"),
    "hall": _("hall"), "": _("worn"),
}


def alarm_type_label(code: str) -> str:
    return str(ALARM_TYPES.get(code, code))


def severity_label(code: str) -> str:
    return str({"critical": _("Critical"), "high": _("High"), "medium": _("Medium"), "low": _("Low")}.get(code, code))


def closing_label(code: str) -> str:
    if code == "auto_cleared":
        return str(_("Cleared by itself"))
    return str(dict(CLOSING_CODES).get(code, code))

"""Input events and output alarm signals of the rules engine (plain data)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---- event kinds --------------------------------------------------------
MOTION = "motion"            # PIR. value: {"motion": bool}  (True = detected, False = cleared)
DOOR = "door"                # magnet. value: {"open": bool, "role": "entrance"|"fridge"|"bathroom"|"cupboard"|"room"}
SEAT = "seat"                # chair/sofa pressure pad. value: {"occupied": bool}
APPLIANCE = "appliance"      # plug/electric sensor. value: {"on": bool, "appliance": str}
TOILET_FLUSH = "toilet_flush"  # value: {}
SMOKE = "smoke"              # value: {"alarm": bool}
WATER_LEAK = "water_leak"    # value: {"alarm": bool}
BED = "bed"                  # mattress. value: {"in_bed": bool?, "heart_rate": num?, "breath_rate": num?}
VITALS = "vitals"            # wristband. value: {"heart_rate"?, "bp_sys"?, "bp_dia"?, "spo2"?}
GPS = "gps"                  # value: {"lat": float, "lon": float, "accuracy_m"?: float}
SOS = "sos"                  # button / wristband / SOS phone pressed. value: {}
SOS_TEST = "sos_test"        # periodic test press. value: {}
FALL = "fall"                # wristband fall detection. value: {"confidence"?: float}
HEARTBEAT = "heartbeat"      # device alive. value: {"battery"?: pct, "device_type"?: str}
AIR = "air"                  # room air monitor. value: {"co2"?: ppm, "pm25"?: µg/m³, "temperature"?: °C}

KINDS = frozenset({MOTION, DOOR, SEAT, APPLIANCE, TOILET_FLUSH, SMOKE, WATER_LEAK, BED,
                   VITALS, GPS, SOS, SOS_TEST, FALL, HEARTBEAT, AIR})

#: kinds that show that a person is up and doing something at home
ACTIVITY_KINDS = frozenset({MOTION, DOOR, SEAT, APPLIANCE, TOILET_FLUSH, SOS, SOS_TEST})
#: device types whose SOS button must be tested periodically
SOS_DEVICE_TYPES = frozenset({"sos_button", "wristband", "sos_phone"})

# ---- declared device semantics (registry -> value["sem"], value["hold_s"]; docs/device-protocol.md)
SEM_STATE, SEM_PULSE, SEM_EDGE = "state", "pulse", "edge"

# ---- door roles ---------------------------------------------------------
ROLE_ENTRANCE = "entrance"
ROLE_FRIDGE = "fridge"
ROLE_BATHROOM = "bathroom"

# ---- alarm types / severities / actions -----------------------------------
CRITICAL, HIGH, MEDIUM, LOW = "critical", "high", "medium", "low"
SEVERITIES = (CRITICAL, HIGH, MEDIUM, LOW)

RAISE, CLEAR, UPDATE = "raise", "clear", "update"

A_SOS = "sos"
A_FALL = "fall"
A_SMOKE = "smoke"
A_WATER_LEAK = "water_leak"
A_INACTIVITY = "inactivity"
A_BATHROOM = "bathroom_overstay"
A_NO_ROUTINE = "no_routine"
A_NIGHT_OOB = "night_out_of_bed"
A_ROUTINE_DEV = "routine_deviation"
A_GEOFENCE = "geofence_exit"
A_OFFLINE = "device_offline"
A_LOW_BATTERY = "low_battery"
A_SOS_TEST = "sos_test_overdue"
A_NO_VITALS = "no_vital_signs"        # a mattress reports no breathing / no heart rate while occupied
A_AWAY_OVERDUE = "away_overdue"       # a registered absence: not back by the expected return (+ grace)
VITAL_MEASURES = ("heart_rate", "bp_sys", "bp_dia", "spo2", "breath_rate")
AIR_MEASURES = ("co2", "pm25")
A_AIR_CO2 = "air_high_co2"
A_AIR_PM25 = "air_high_pm25"
AIR_TYPES = {"co2": A_AIR_CO2, "pm25": A_AIR_PM25}


def vitals_type(direction: str, measure: str) -> str:
    """``vitals_high_heart_rate``, ``vitals_low_spo2``, ..."""
    return f"vitals_{direction}_{measure}"


ALARM_TYPES = frozenset(
    {A_SOS, A_FALL, A_SMOKE, A_WATER_LEAK, A_INACTIVITY, A_BATHROOM, A_NO_ROUTINE,
     A_NIGHT_OOB, A_ROUTINE_DEV, A_GEOFENCE, A_OFFLINE, A_LOW_BATTERY, A_SOS_TEST, A_AIR_CO2, A_AIR_PM25,
     A_NO_VITALS, A_AWAY_OVERDUE}
    | {vitals_type(d, m) for d in ("high", "low") for m in VITAL_MEASURES}
)
#: alarm types that are kept per device (key = "type:device_id")
DEVICE_SCOPED = frozenset({A_OFFLINE, A_LOW_BATTERY, A_SMOKE, A_WATER_LEAK, A_AIR_CO2, A_AIR_PM25})


@dataclass(frozen=True, slots=True)
class SensorEvent:
    device_id: str
    elder_id: str | int
    kind: str
    room: str | None
    ts: float                      # epoch seconds, UTC
    value: dict = field(default_factory=dict)
    event_id: str | None = None    # upstream id; dedup happens before the engine


@dataclass(frozen=True, slots=True)
class AlarmSignal:
    elder_id: str | int
    type: str
    severity: str
    action: str                    # raise | clear | update
    ts: float                      # when the condition was met / cleared (epoch s)
    message: str                   # short English code, e.g. "no_activity_day"
    details: dict = field(default_factory=dict)
    device_id: str | None = None   # source device, if any

    @property
    def key(self) -> str:
        """Identity of the active alarm: one per elder and key."""
        return alarm_key(self.type, self.device_id)

    def to_dict(self) -> dict[str, Any]:
        return {"elder_id": self.elder_id, "type": self.type, "severity": self.severity,
                "action": self.action, "ts": self.ts, "message": self.message,
                "details": dict(self.details), "device_id": self.device_id, "key": self.key}


def alarm_key(type_: str, device_id: str | None) -> str:
    if type_ in DEVICE_SCOPED and device_id:
        return f"{type_}:{device_id}"
    return type_

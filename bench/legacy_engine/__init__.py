"""FROZEN COPY of carenet.monitoring.engine as of issue 16 (commit 69a5f8d), kept so the bench measures the old
engine beside the new one in the same run. Do not edit.

CareNet home-monitoring rules engine: pure Python, no Django.

Django (the ingest worker) maps device messages onto :class:`SensorEvent`, keeps one
:class:`ElderState` per elder (persisted as JSON via ``to_dict``/``from_dict``), and
calls :func:`process` for each event, :func:`tick` when :func:`next_deadline` comes
due. See docs/monitoring-rules.md.
"""
from .config import (DEFAULT_VITALS, Geofence, MonitorConfig, VitalThreshold, apply_overrides,
                     config_from_profile)
from .events import (ACTIVITY_KINDS, ALARM_TYPES, KINDS, AlarmSignal, SensorEvent, alarm_key,
                     vitals_type)
from .routine import (expected_first_activity, is_night, learned_inactivity, learned_seated, quiet_pieces,
                      routine_check_hour)
from .rules import deadlines, next_deadline, process, register_device, summary, tick, unregister_device
from .scheduler import DeadlineScheduler
from .state import STATE_VERSION, ElderState

__all__ = [
    "SensorEvent", "AlarmSignal", "ElderState", "MonitorConfig", "VitalThreshold", "Geofence",
    "DEFAULT_VITALS", "config_from_profile", "apply_overrides", "process", "tick",
    "next_deadline", "deadlines", "register_device", "unregister_device", "DeadlineScheduler", "KINDS", "ACTIVITY_KINDS", "ALARM_TYPES", "alarm_key",
    "vitals_type", "is_night", "learned_inactivity", "learned_seated", "expected_first_activity",
    "routine_check_hour", "quiet_pieces", "summary", "STATE_VERSION",
]

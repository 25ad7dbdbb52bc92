"""Display labels for alarm codes used on the call-center screens: monitoring owns them; re-exported here."""
from carenet.monitoring.labels import (ALARM_TYPES, CLOSING_CODES, DEVICE_CARE_TYPES, DISPATCH_TARGETS,  # noqa: F401
                                       EVENT_KINDS, ROOMS, alarm_type_label, closing_label, severity_label)

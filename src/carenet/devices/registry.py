"""Which event kinds each device type may send (anything else is quarantined as kind_mismatch)."""
KINDS_BY_TYPE = {
    "pir": {"motion"},
    "door": {"door"},
    "smoke": {"smoke"},
    "water_leak": {"water_leak"},
    "mattress": {"bed"},
    "wristband": {"vitals", "gps", "sos", "sos_test", "fall"},
    "sos_button": {"sos", "sos_test"},
    "sos_phone": {"sos", "sos_test"},
    "gateway": set(),
    "seat": {"seat"},
    "plug": {"appliance"},
    "toilet": {"toilet_flush"},
    "air": {"air"},
}
# Every device may report that it is alive.
for _kinds in KINDS_BY_TYPE.values():
    _kinds.add("heartbeat")

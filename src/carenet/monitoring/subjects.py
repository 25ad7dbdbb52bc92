"""Subjects and mappings of the partitioned ingest stream (no Django: used by tests, benches, nats config)."""
from __future__ import annotations

STREAM = "CARENET_INGEST"
SUBJECT_PREFIX = "carenet.part"
HOME_TOPIC = "carenet/v1/home/{home}/dev/{device}/up"
NO_HOME = "_"   # the home token of a legacy topic (carenet/v1/dev/<device>/up) that reached the stream


def nats_mappings(partitions: int) -> dict[str, str]:
    """The nats-server account mappings for N partitions (deploy/nats/carenet.conf holds the same)."""
    return {
        "carenet.v1.home.*.dev.*.up": f"{SUBJECT_PREFIX}.{{{{partition({partitions},1)}}}}.{{{{wildcard(1)}}}}.{{{{wildcard(2)}}}}",
        # legacy topics reach the stream too, so nothing vanishes: the worker quarantines them with the reason
        "carenet.v1.dev.*.up": f"{SUBJECT_PREFIX}.{{{{partition({partitions},1)}}}}.{NO_HOME}.{{{{wildcard(1)}}}}",
    }


def parse_subject(subject: str) -> tuple[int, str, str] | None:
    """carenet.part.<p>.<home>.<device> → (p, home, device); None when it is not of that form."""
    parts = subject.split(".")
    if len(parts) != 5 or f"{parts[0]}.{parts[1]}" != SUBJECT_PREFIX or not parts[2].isdigit():
        return None
    return int(parts[2]), parts[3], parts[4]

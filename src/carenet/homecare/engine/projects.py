"""Home adaptation (适老化改造) and family care bed (家庭养老床位) projects: a fixed sequence of stages."""
from __future__ import annotations

from decimal import Decimal

ADAPTATION, CARE_BED = "adaptation", "care_bed"
STAGES = ("application", "assessment", "plan", "works", "acceptance", "paid")


class StageError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def advance(kind: str, stage: str, *, photos: int = 0, devices: int = 0, subsidy: Decimal | None = None) -> str:
    """The next stage. Acceptance needs photos; a care bed's works need its devices registered in monitoring;
    paying needs the subsidy amount."""
    if stage not in STAGES:
        raise StageError("unknown_stage")
    i = STAGES.index(stage)
    if i == len(STAGES) - 1:
        raise StageError("finished")
    target = STAGES[i + 1]
    if target == "acceptance" and kind == CARE_BED and devices < 1:
        raise StageError("devices_needed")
    if target == "acceptance" and photos < 1:
        raise StageError("photos_needed")
    if target == "paid" and (subsidy is None or subsidy <= 0):
        raise StageError("subsidy_needed")
    return target

"""Targeted discovery (精准识别): saved, parameterised screens over households. Pure Python, no Django.

Each screen takes plain household data and returns, per household found, the evidence (Chinese) that put it on
the list. Parameters have defaults and are shown on the page.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Member:
    name: str
    age: int
    disability_grade: int | None = None     # 1 (most severe) to 4, from the 残联 registry
    disability_kind: str = ""
    died_on: dt.date | None = None
    head: bool = False


@dataclass
class HouseholdData:
    key: str
    members: list[Member] = field(default_factory=list)
    assisted: bool = False                   # any running assistance entitlement
    living_alone_elder: bool = False         # an elder profile marked 独居


@dataclass(frozen=True)
class Screen:
    code: str
    title: str
    description: str
    defaults: dict


SCREENS = {
    "all_disabled": Screen("all_disabled", "全家重度残疾且未享受救助",
                           "家庭每位成员均持有残疾证，等级在所选等级以内（默认一、二级），且未享受任何救助",
                           {"max_grade": 2, "unassisted_only": True}),
    "alone_disabled_elder": Screen("alone_disabled_elder", "独居重度残疾老人未享受救助",
                                   "独居、达到所选年龄（默认60岁）、残疾等级在所选等级以内，且未享受任何救助",
                                   {"min_age": 60, "max_grade": 2}),
    "earner_died_children": Screen("earner_died_children", "主要劳动力当年死亡的家庭子女",
                                   "户主或劳动年龄成员在所选年份死亡、家中有未满18周岁子女的家庭",
                                   {"year": 0}),
}


def _grade_text(m: Member) -> str:
    return f"{m.name}：{m.disability_kind or ''}残疾{m.disability_grade}级" if m.disability_grade else f"{m.name}：无残疾登记"


def all_disabled(h: HouseholdData, max_grade: int = 2, unassisted_only: bool = True) -> list[str] | None:
    living = [m for m in h.members if m.died_on is None]
    if not living or (unassisted_only and h.assisted):
        return None
    if all(m.disability_grade is not None and m.disability_grade <= max_grade for m in living):
        return [f"全家{len(living)}人均为{max_grade}级以内残疾"] + [_grade_text(m) for m in living] + \
            (["未享受社会救助"] if not h.assisted else ["已享受社会救助"])
    return None


def alone_disabled_elder(h: HouseholdData, min_age: int = 60, max_grade: int = 2) -> list[str] | None:
    living = [m for m in h.members if m.died_on is None]
    if h.assisted or not h.living_alone_elder or len(living) != 1:
        return None
    m = living[0]
    if m.age >= min_age and m.disability_grade is not None and m.disability_grade <= max_grade:
        return [f"独居老人 {m.name}，{m.age}岁", _grade_text(m), "未享受社会救助"]
    return None


def earner_died_children(h: HouseholdData, year: int) -> list[str] | None:
    died = [m for m in h.members if m.died_on and m.died_on.year == year and (m.head or 18 <= m.age < 60)]
    children = [m for m in h.members if m.died_on is None and m.age < 18]
    if died and children:
        return [f"{m.name}于{m.died_on.isoformat()}死亡" for m in died if m.died_on] + \
            [f"未成年子女：{'、'.join(f'{c.name}（{c.age}岁）' for c in children)}"]
    return None


def run(code: str, households: list[HouseholdData], params: dict) -> dict[str, list[str]]:
    fns: dict[str, Callable[..., list[str] | None]] = {
        "all_disabled": all_disabled, "alone_disabled_elder": alone_disabled_elder,
        "earner_died_children": earner_died_children}
    fn = fns[code]
    out = {}
    for h in households:
        ev = fn(h, **params)
        if ev:
            out[h.key] = ev
    return out

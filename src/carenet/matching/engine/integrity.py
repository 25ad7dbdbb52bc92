"""Integrity rules (民生监察) over linked data. Pure Python, no Django.

Each rule takes plain data about one beneficiary and returns Findings with their evidence (Chinese text a
reviewer can read, plus the figures), or nothing. Amounts are Decimal.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

DEATH = "paid_after_death"
STAFF_RELATIVE = "staff_relative"
ASSETS = "assets_over_limit"
DOUBLE = "paid_twice"
INCOME = "income_underdeclared"

RULE_LABELS_ZH = {
    DEATH: "死亡后仍在发放",
    STAFF_RELATIVE: "经办人员近亲属享受救助",
    ASSETS: "财产超过认定标准",
    DOUBLE: "重复享受（跨区域或同一项目两次）",
    INCOME: "申报收入低于部门数据",
}


@dataclass
class Finding:
    rule: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    amount: Decimal = Decimal("0")  # suspected overpayment, to recover if confirmed
    months: list[str] = field(default_factory=list)  # "YYYY-MM" periods concerned


@dataclass(frozen=True)
class Payment:
    period: dt.date  # first day of the month paid for
    amount: Decimal  # net for that period


def month(d: dt.date) -> dt.date:
    return d.replace(day=1)


def paid_after_death(death_date: dt.date, payments: list[Payment], source: str = "") -> Finding | None:
    """Months paid for after the month of death (the month of death itself is owed)."""
    after = [p for p in payments if p.period > month(death_date) and p.amount > 0]
    if not after:
        return None
    total = sum((p.amount for p in after), Decimal("0"))
    months = [f"{p.period:%Y-%m}" for p in sorted(after, key=lambda p: p.period)]
    return Finding(DEATH, f"{death_date:%Y年%m月%d日}死亡，其后仍发放{len(after)}个月，共{total}元",
                   [f"死亡日期 {death_date.isoformat()}（来源：{source or '部门数据'}）",
                    "死亡后发放月份：" + "、".join(months)], total, months)


@dataclass(frozen=True)
class StaffRelative:
    staff_name: str
    employer: str
    civil_affairs: bool  # works for civil affairs (民政), at any level
    staff_township: str | None  # township/street code of the staff member's unit; None for district bodies
    relation: str


def staff_relative(beneficiary_township: str, relations: list[StaffRelative]) -> Finding | None:
    """Flag a beneficiary who is a near relative of civil-affairs staff, or of staff of the township that
    handles the case. A relative of another township's (non-civil-affairs) staff is not flagged."""
    hits = [r for r in relations if r.civil_affairs or (r.staff_township and r.staff_township == beneficiary_township)]
    if not hits:
        return None
    ev = [f"{r.relation}：{r.staff_name}（{r.employer}{'，民政系统' if r.civil_affairs else '，本乡镇（街道）'}）" for r in hits]
    return Finding(STAFF_RELATIVE, "享受救助者为经办单位工作人员的近亲属，需核查是否备案并回避", ev)


@dataclass(frozen=True)
class Asset:
    kind: str  # vehicle | property | company
    description: str
    value: Decimal


def assets_over_limit(assets: list[Asset], limits: dict[str, Decimal | int | None]) -> Finding | None:
    """limits: {"vehicle": max value, "vehicle_count": max number of vehicles, "property": max count of homes,
    "company": max registered capital}; a limit left out (or None) is not checked."""
    ev = []
    vehicles = [a for a in assets if a.kind == "vehicle"]
    homes = [a for a in assets if a.kind == "property"]
    companies = [a for a in assets if a.kind == "company"]
    vcount = limits.get("vehicle_count")
    if vcount is not None and len(vehicles) > int(vcount):
        ev.append(f"机动车{len(vehicles)}辆，超过{vcount}辆：" + "；".join(a.description for a in vehicles))
    vmax = limits.get("vehicle")
    if vmax is not None:
        ev += [f"车辆 {a.description} 价值{a.value}元，超过{vmax}元" for a in vehicles if a.value > Decimal(vmax)]
    hmax = limits.get("property")
    if hmax is not None and len(homes) > int(hmax):
        ev.append(f"房产{len(homes)}套，超过{hmax}套：" + "；".join(a.description for a in homes))
    cmax = limits.get("company")
    if cmax is not None:
        ev += [f"企业 {a.description} 注册资本{a.value}元，超过{cmax}元" for a in companies if a.value > Decimal(cmax)]
    if not ev:
        return None
    return Finding(ASSETS, "家庭财产超过现行认定标准", ev)


@dataclass(frozen=True)
class Grant:
    program: str
    area: str  # township code
    area_name: str
    monthly_amount: Decimal
    active: bool


def paid_twice(grants: list[Grant]) -> Finding | None:
    """The same person with active payments in two areas, or twice in one program."""
    active = [g for g in grants if g.active]
    areas = {g.area for g in active}
    by_program: dict[str, int] = {}
    for g in active:
        by_program[g.program] = by_program.get(g.program, 0) + 1
    twice = [p for p, n in by_program.items() if n > 1]
    if len(areas) < 2 and not twice:
        return None
    ev = [f"{g.area_name} {g.program} 每月{g.monthly_amount}元" for g in active]
    why = "同一人在两个地区同时享受" if len(areas) >= 2 else "同一人在同一项目中重复享受"
    extra = sum((g.monthly_amount for g in active[1:]), Decimal("0")) if twice else Decimal("0")
    return Finding(DOUBLE, why, ev, extra)


def income_underdeclared(declared_monthly: Decimal, department_monthly: Decimal, source: str,
                         tolerance: Decimal = Decimal("0.2")) -> Finding | None:
    """Department data show income more than `tolerance` (share) above what the household declared."""
    if department_monthly <= declared_monthly * (1 + tolerance):
        return None
    return Finding(INCOME, f"申报月收入{declared_monthly}元，{source}显示{department_monthly}元",
                   [f"申报：{declared_monthly}元/月", f"{source}：{department_monthly}元/月",
                    f"容差：{int(tolerance * 100)}%"])

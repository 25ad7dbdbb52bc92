"""Dated rules as data.

A ``Standard`` is one row: (division, program, key, value, effective_from).
``RuleSet.resolve`` answers "what is <key> for <program> in <division path> on
<date>?" and returns the value together with its provenance.

Resolution order (documented in docs/assistance-rules.md):

1. Walk the division path from the most specific division (a street, 街道) up
   to the least specific (the province). ``division_path`` is given root first,
   e.g. ``("330000", "330100", "330106", "330106001")``.
2. At each division, rows for the exact program win over rows for the generic
   program ``"*"``.
3. Among matching rows, the one with the latest ``effective_from <= on_date``
   wins. A row dated in the future is invisible until its date: changing a
   standard from a future date never changes an earlier computation.
4. The first division that has a visible row wins ("street overrides
   district"). If no division has one, ``RuleNotFoundError`` is raised.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

ANY_PROGRAM = "*"

# Program codes used across the engine.
DIBAO_URBAN = "dibao_urban"
DIBAO_RURAL = "dibao_rural"
MARGINAL = "marginal"
TEKUN = "tekun"
TEMP_AID = "temp_aid"
ELDERLY = "elderly_allowance"
WARM_FUND = "warm_fund"

PROGRAMS = (DIBAO_URBAN, DIBAO_RURAL, MARGINAL, TEKUN, TEMP_AID, ELDERLY, WARM_FUND)

PROGRAM_LABELS_ZH = {
    DIBAO_URBAN: "城市低保",
    DIBAO_RURAL: "农村低保",
    MARGINAL: "低保边缘",
    TEKUN: "特困供养",
    TEMP_AID: "临时救助",
    ELDERLY: "高龄津贴",
    WARM_FUND: "暖心基金",
}


def dibao_program(area: str) -> str:
    """Map a household's area ('urban' / 'rural') to its 低保 program code."""
    if area == "urban":
        return DIBAO_URBAN
    if area == "rural":
        return DIBAO_RURAL
    raise ValueError(f"area must be 'urban' or 'rural', not {area!r}")


class RuleNotFoundError(LookupError):
    """No standard row applies to (key, program, division path, date)."""


@dataclass(frozen=True)
class Standard:
    division_code: str
    program: str
    key: str
    value: Any
    effective_from: date
    source: str = ""  # legal basis or local document number, shown in explanations


@dataclass(frozen=True)
class Resolved:
    key: str
    program: str
    value: Any
    division_code: str
    effective_from: date
    standard: Standard = field(repr=False)

    @property
    def provenance(self) -> dict:
        return {
            "key": self.key,
            "program": self.standard.program,
            "division": self.division_code,
            "effective_from": self.effective_from.isoformat(),
            "source": self.standard.source,
        }


class RuleSet:
    """An immutable, indexed set of ``Standard`` rows. Safe to share between threads."""

    def __init__(self, standards: Iterable[Standard] = ()):  # noqa: D401
        self._rows: tuple[Standard, ...] = tuple(standards)
        index: dict[tuple[str, str, str], list[Standard]] = {}
        for s in self._rows:
            if not isinstance(s.effective_from, date):
                raise TypeError(f"effective_from must be a date: {s!r}")
            index.setdefault((s.key, s.program, s.division_code), []).append(s)
        self._index: dict[tuple[str, str, str], tuple[list[date], list[Standard]]] = {}
        for k, rows in index.items():
            rows.sort(key=lambda r: r.effective_from)
            dates = [r.effective_from for r in rows]
            if len(set(dates)) != len(dates):
                raise ValueError(f"two rows for {k} with the same effective_from")
            self._index[k] = (dates, rows)

    def __iter__(self) -> Iterator[Standard]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def with_rows(self, *standards: Standard) -> "RuleSet":
        """A new RuleSet with extra rows (the original is unchanged)."""
        return RuleSet(self._rows + tuple(standards))

    def _lookup(self, key: str, program: str, division: str, on_date: date) -> Standard | None:
        hit = self._index.get((key, program, division))
        if hit is None:
            return None
        dates, rows = hit
        i = bisect.bisect_right(dates, on_date)
        return rows[i - 1] if i else None

    def resolve(self, key: str, program: str, division_path: Sequence[str], on_date: date) -> Resolved:
        if not division_path:
            raise ValueError("division_path is empty")
        programs = (program,) if program == ANY_PROGRAM else (program, ANY_PROGRAM)
        for division in reversed(tuple(division_path)):
            for prog in programs:
                row = self._lookup(key, prog, division, on_date)
                if row is not None:
                    return Resolved(key, program, row.value, row.division_code, row.effective_from, row)
        raise RuleNotFoundError(
            f"no standard {key!r} for program {program!r} in {'/'.join(division_path)} on {on_date.isoformat()}"
        )

    def value(self, key: str, program: str, division_path: Sequence[str], on_date: date, default: Any = RuleNotFoundError) -> Any:
        try:
            return self.resolve(key, program, division_path, on_date).value
        except RuleNotFoundError:
            if default is RuleNotFoundError:
                raise
            return default

    def change_dates(self, key: str, program: str, division_path: Sequence[str], start: date, end: date) -> list[date]:
        """Dates in (start, end] on which the resolved value of key may change.

        Used by payroll to restate an entitlement when a standard changes.
        """
        programs = (program,) if program == ANY_PROGRAM else (program, ANY_PROGRAM)
        found: set[date] = set()
        for division in division_path:
            for prog in programs:
                hit = self._index.get((key, prog, division))
                if hit:
                    found.update(d for d in hit[0] if start < d <= end)
        out = []
        previous = self.value(key, program, division_path, start, default=None)
        for d in sorted(found):
            current = self.value(key, program, division_path, d, default=None)
            if current != previous:
                out.append(d)
            previous = current
        return out


def resolve(standards: Iterable[Standard] | RuleSet, key: str, program: str,
            division_path: Sequence[str], on_date: date) -> Resolved:
    """Convenience wrapper: ``resolve(rows, key, program, path, date)``."""
    rules = standards if isinstance(standards, RuleSet) else RuleSet(standards)
    return rules.resolve(key, program, division_path, on_date)


# --------------------------------------------------------------------------
# Key catalogue. Values marked "statutory" come from the laws cited in
# docs/assistance-rules.md; values marked "illustrative" are placeholders the
# bureau MUST replace with its own published figures.
# --------------------------------------------------------------------------

D = Decimal

KEY_LABELS_ZH = {
    "dibao_monthly": "低保标准（元/人·月）",
    "dibao_min_per_person": "低保最低发放额（元/人·月）",
    "marginal_multiple": "低保边缘认定倍数",
    "min_wage_monthly": "月最低工资标准",
    "temp_aid_cap_multiple": "临时救助上限倍数",
    "temp_aid_special_cap_multiple": "特别困难临时救助上限倍数",
    "first_aid_cap": "先行救助限额",
    "temp_aid_township_approval_max": "委托乡镇审批临时救助限额",
    "elderly_allowance_tiers": "高龄津贴档次",
    "tekun_basic_monthly": "特困基本生活标准",
    "tekun_care_monthly": "特困照料护理标准",
    "warm_fund_max": "暖心基金单次上限",
    "warm_fund_min_interval_months": "暖心基金重复救助间隔（月）",
    "deadline_review_days": "调查审核时限（工作日）",
    "deadline_notice_days": "公示期（日）",
    "deadline_renotice_days": "异议复查后再公示期（日）",
    "notice_day_unit": "公示期计算单位",
    "deadline_submit_days": "公示结束后报批时限（工作日）",
    "deadline_approval_days": "审批时限（工作日）",
    "deadline_recheck_days": "复核办理时限（工作日）",
    "deadline_warning_days": "到期预警（工作日）",
    "deadline_escalation_days": "超期升级（工作日）",
    "approval_delegated_to_township": "审批权委托乡镇（街道）",
    "recheck_months": "复核周期（月）",
    "deposit_limit_months": "人均存款限额（低保标准月数）",
    "max_vehicles": "机动车限制（辆）",
    "max_housing_units": "住房限制（套）",
    "income_excluded_types": "不计入家庭收入的项目",
    "employment_cost_deduction": "就业成本扣减（元/人·月）",
    "employment_disregard_multiple": "就业收入渐退倍数",
    "employment_disregard_months": "就业收入渐退期限（月）",
    "rigid_expense_deductible": "可扣减的刚性支出",
    "payment_start_offset_months": "批准后起发月份偏移",
    "tekun_income_standard_program": "特困无生活来源认定参照标准",
    # home-care services (homecare app), program "*"
    "homecare_budget_monthly": "居家养老服务月度额度（按对象类别，元/人·月）",
    "homecare_over_budget": "超额度订单处理（拒绝，或经老人同意自费补差）",
    "homecare_geofence_m": "上门签到电子围栏半径（米）",
    "homecare_followup_share": "服务回访抽样比例",
    "homecare_visit_rules": "探访频次规则",
    "homecare_meal_price": "助餐每餐价格（元）",
    "homecare_meal_subsidy": "助餐补贴（按对象类别，元/餐）",
}

# Keys read by the homecare app: a new row for one of them restates no assistance entitlement.
HOMECARE_KEYS = frozenset(k for k in KEY_LABELS_ZH if k.startswith("homecare_"))


def default_standards(division_code: str, effective_from: date = date(2020, 11, 1)) -> list[Standard]:
    """A complete key set for one division (usually the province or the district).

    Statutory values cite their article; illustrative money values are
    placeholders to be replaced by the locally published figures.
    """
    zj = "浙江省社会救助条例(2020)"
    nat = "社会救助暂行办法"
    ill = "示例值，须替换为本地公布的标准"
    rows: list[tuple[str, str, Any, str]] = [
        (DIBAO_URBAN, "dibao_monthly", D("1000.00"), ill),
        (DIBAO_RURAL, "dibao_monthly", D("1000.00"), ill + f"；农村不低于城市的70%（{zj}第十条）"),
        (ANY_PROGRAM, "dibao_min_per_person", D("0.00"), ill + "；0 表示不设最低额"),
        (MARGINAL, "marginal_multiple", D("1.5"), f"{zj}第十三条"),
        (ANY_PROGRAM, "min_wage_monthly", None, ill + f"；低保边缘认定上限（{zj}第十三条）；空表示不设上限"),
        (TEMP_AID, "temp_aid_cap_multiple", D("6"), f"{zj}第三十九条第一项"),
        (TEMP_AID, "temp_aid_special_cap_multiple", D("12"), f"{zj}第三十九条第一项"),
        (TEMP_AID, "first_aid_cap", D("1000.00"), ill + f"；{nat}第四十八条（紧急情况简易程序）"),
        (TEMP_AID, "temp_aid_township_approval_max", D("3000.00"), ill + f"；{zj}第四十条（小额救助可委托审批）"),
        (ELDERLY, "elderly_allowance_tiers", ((80, 89, D("50.00")), (90, 99, D("100.00")), (100, None, D("300.00"))), ill),
        (TEKUN, "tekun_basic_monthly", D("1300.00"), ill + f"；{zj}第十四条（由县级人民政府确定）"),
        (TEKUN, "tekun_care_monthly", (("self_care", D("0.00")), ("partial", D("300.00")), ("full", D("600.00"))), ill),
        (TEKUN, "tekun_income_standard_program", "dibao", "收入与当地低保标准比较"),
        (WARM_FUND, "warm_fund_max", D("5000.00"), "暖心基金章程：一次性救助，每次不超过5000元"),
        (WARM_FUND, "warm_fund_min_interval_months", 12, ill),
        (ANY_PROGRAM, "deadline_review_days", 15, f"{zj}第十一条（自申请之日起15个工作日）"),
        (ANY_PROGRAM, "deadline_notice_days", 7, f"{zj}第十一条（公示七日）"),
        (ANY_PROGRAM, "deadline_renotice_days", 3, "重庆市城乡居民最低生活保障条例第十八条第三项（异议复查后再公示3日）"),
        (ANY_PROGRAM, "notice_day_unit", "working", "公示期按工作日计算；按自然日计算时改为“自然日”"),
        (ANY_PROGRAM, "deadline_submit_days", 2, ill),
        (ANY_PROGRAM, "deadline_approval_days", 5, f"{zj}第十一条（自收到初审意见起5个工作日）"),
        (ANY_PROGRAM, "deadline_recheck_days", 15, ill),
        (ANY_PROGRAM, "deadline_warning_days", 2, ill),
        (ANY_PROGRAM, "deadline_escalation_days", 3, ill),
        (ANY_PROGRAM, "approval_delegated_to_township", False, f"{nat}第四十八条；{zj}第四十条"),
        (ANY_PROGRAM, "recheck_months", (("stable_severe", 12), ("stable", 6), ("employable_unemployed", 3)),
         "参照重庆市城乡居民最低生活保障条例第二十六条（每年／每半年／更频繁）"),
        (ANY_PROGRAM, "deposit_limit_months", D("24"), ill),
        (ANY_PROGRAM, "max_vehicles", 0, ill + "；残疾人功能性补偿代步机动车除外（重庆条例第十三条第二项）"),
        (ANY_PROGRAM, "max_housing_units", 1, ill),
        (ANY_PROGRAM, "income_excluded_types",
         ("special_care", "reward", "social_assistance", "basic_pension_base"),
         "最低生活保障审核确认办法（2021）；清单须由本地核实"),
        (ANY_PROGRAM, "employment_cost_deduction", D("0.00"), ill + "；0 表示不扣减"),
        (ANY_PROGRAM, "employment_disregard_multiple", D("3"), f"{zj}第五十条（每月不超过低保标准的3倍）"),
        (ANY_PROGRAM, "employment_disregard_months", 12, f"{zj}第五十条（不少于6个月，不超过12个月）"),
        (ANY_PROGRAM, "rigid_expense_deductible", ("medical", "education"), "上海市社会救助条例第十二条；" + f"{zj}第四十一条"),
        (ANY_PROGRAM, "payment_start_offset_months", 1, f"{zj}第五十六条（自批准次月起发放）"),
    ]
    return [Standard(division_code, prog, key, value, effective_from, src) for prog, key, value, src in rows]


def as_mapping(value: Any) -> dict:
    """Tier/level values are stored as tuples of pairs (hashable); read them as dicts."""
    if isinstance(value, dict):
        return dict(value)
    return {k: v for k, v in value}


# --------------------------------------------------------------------------
# JSON encoding of values, for persistence (e.g. a Django JSONField).
# Decimals travel as strings so that no binary float ever touches money.
# --------------------------------------------------------------------------

KEY_TYPES = {
    "dibao_monthly": "decimal", "dibao_min_per_person": "decimal", "marginal_multiple": "decimal",
    "min_wage_monthly": "decimal_or_none", "temp_aid_cap_multiple": "decimal",
    "temp_aid_special_cap_multiple": "decimal", "first_aid_cap": "decimal",
    "temp_aid_township_approval_max": "decimal_or_none", "elderly_allowance_tiers": "tiers",
    "tekun_basic_monthly": "decimal", "tekun_care_monthly": "pairs_decimal", "tekun_income_standard_program": "str",
    "warm_fund_max": "decimal", "warm_fund_min_interval_months": "int",
    "deadline_review_days": "int", "deadline_notice_days": "int", "deadline_renotice_days": "int",
    "notice_day_unit": "str", "deadline_submit_days": "int", "deadline_approval_days": "int",
    "deadline_recheck_days": "int", "deadline_warning_days": "int", "deadline_escalation_days": "int",
    "approval_delegated_to_township": "bool", "recheck_months": "pairs_int", "deposit_limit_months": "decimal",
    "max_vehicles": "int", "max_housing_units": "int", "income_excluded_types": "str_list",
    "employment_cost_deduction": "decimal", "employment_disregard_multiple": "decimal",
    "employment_disregard_months": "int", "rigid_expense_deductible": "str_list",
    "payment_start_offset_months": "int",
    "homecare_budget_monthly": "pairs_decimal", "homecare_over_budget": "str", "homecare_geofence_m": "int",
    "homecare_followup_share": "decimal", "homecare_visit_rules": "json",
    "homecare_meal_price": "decimal", "homecare_meal_subsidy": "pairs_decimal",
}


def encode_value(key: str, value: Any) -> Any:
    """Python value -> JSON-able value (Decimal -> str, tuples -> lists)."""
    kind = KEY_TYPES.get(key)
    if kind is None:
        raise KeyError(f"unknown rule key {key!r}")
    if value is None:
        return None
    if kind in ("decimal", "decimal_or_none"):
        return str(Decimal(value))
    if kind == "tiers":
        return [[int(lo), None if hi is None else int(hi), str(Decimal(a))] for lo, hi, a in value]
    if kind == "pairs_decimal":
        return [[k, str(Decimal(v))] for k, v in as_mapping(value).items()]
    if kind == "pairs_int":
        return [[k, int(v)] for k, v in as_mapping(value).items()]
    if kind == "str_list":
        return [str(v) for v in value]
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "json":
        return _thaw(value)
    return str(value)


def decode_value(key: str, data: Any) -> Any:
    """JSON value -> the Python value the engine expects."""
    kind = KEY_TYPES.get(key)
    if kind is None:
        raise KeyError(f"unknown rule key {key!r}")
    if data is None:
        if kind.endswith("_or_none"):
            return None
        raise ValueError(f"{key} may not be null")
    if kind in ("decimal", "decimal_or_none"):
        if isinstance(data, float):
            raise TypeError(f"{key}: store decimals as strings, not floats")
        return Decimal(str(data))
    if kind == "tiers":
        return tuple((int(lo), None if hi is None else int(hi), Decimal(str(a))) for lo, hi, a in data)
    if kind == "pairs_decimal":
        return tuple((str(k), Decimal(str(v))) for k, v in data)
    if kind == "pairs_int":
        return tuple((str(k), int(v)) for k, v in data)
    if kind == "str_list":
        return tuple(str(v) for v in data)
    if kind == "int":
        return int(data)
    if kind == "bool":
        if not isinstance(data, bool):
            raise TypeError(f"{key} must be a JSON boolean")
        return data
    if kind == "json":
        if not isinstance(data, (list, dict)):
            raise TypeError(f"{key} must be a JSON list or object")
        return _freeze(data)
    return str(data)


# --------------------------------------------------------------------------
# Values in words, for staff pages (never JSON).
# --------------------------------------------------------------------------

KEY_UNITS_ZH = {
    "dibao_monthly": "元/人·月", "dibao_min_per_person": "元/人·月", "marginal_multiple": "倍",
    "min_wage_monthly": "元/月", "temp_aid_cap_multiple": "倍", "temp_aid_special_cap_multiple": "倍",
    "first_aid_cap": "元", "temp_aid_township_approval_max": "元", "tekun_basic_monthly": "元/月",
    "warm_fund_max": "元", "warm_fund_min_interval_months": "个月", "deadline_review_days": "个工作日",
    "deadline_notice_days": "日", "deadline_renotice_days": "日", "deadline_submit_days": "个工作日",
    "deadline_approval_days": "个工作日", "deadline_recheck_days": "个工作日", "deadline_warning_days": "个工作日",
    "deadline_escalation_days": "个工作日", "deposit_limit_months": "个月低保标准", "max_vehicles": "辆",
    "max_housing_units": "套", "employment_cost_deduction": "元/人·月", "employment_disregard_multiple": "倍",
    "employment_disregard_months": "个月", "payment_start_offset_months": "个月",
    "tekun_care_monthly": "元/月", "recheck_months": "个月", "elderly_allowance_tiers": "元/月",
}

# The words a code value may take, per key (options for str keys, row labels for pairs, boxes for str lists).
VALUE_OPTIONS_ZH = {
    "notice_day_unit": {"working": "工作日", "calendar": "自然日"},
    "tekun_income_standard_program": {"dibao": "低保标准"},
    "tekun_care_monthly": {"self_care": "生活自理", "partial": "部分失能（半护理）", "full": "完全失能（全护理）"},
    "recheck_months": {"stable_severe": "收入稳定且重病重残", "stable": "收入基本稳定", "employable_unemployed": "有劳动能力未就业"},
    "income_excluded_types": {"special_care": "优待抚恤金", "reward": "奖励性补助", "social_assistance": "社会救助款物",
                              "basic_pension_base": "城乡居民基础养老金", "maintenance": "赡养/抚养/扶养费",
                              "pension": "养老金", "other": "其他"},
    "rigid_expense_deductible": {"medical": "医疗", "education": "教育", "other": "其他"},
    "homecare_over_budget": {"refuse": "拒绝超额订单", "self_pay": "经同意自费"},
}
ELDER_CATEGORIES_ZH = {"tekun": "特困", "dibao": "低保", "marginal": "低保边缘", "severe_disability": "重度残疾",
                       "lost_only_child": "计生特殊家庭", "youfu": "优抚对象", "advanced_age": "高龄"}
VALUE_OPTIONS_ZH["homecare_budget_monthly"] = ELDER_CATEGORIES_ZH
VALUE_OPTIONS_ZH["homecare_meal_subsidy"] = ELDER_CATEGORIES_ZH
KEY_UNITS_ZH.update({"homecare_budget_monthly": "元/人·月", "homecare_meal_subsidy": "元/餐", "homecare_meal_price": "元/餐",
                     "homecare_geofence_m": "米"})


def describe_value(key: str, value: Any) -> str:
    """A standard's value in plain Chinese: '80–89岁 50.00 元/月；…', '1000.00 元/人·月', '是'."""
    kind = KEY_TYPES.get(key)
    unit = KEY_UNITS_ZH.get(key, "")
    words = VALUE_OPTIONS_ZH.get(key, {})
    if value is None:
        return "不设上限" if kind == "decimal_or_none" else "—"
    if kind in ("decimal", "decimal_or_none"):
        d = Decimal(value)
        text = f"{d:.2f}" if unit.startswith("元") else f"{d.normalize():f}"
        return f"{text} {unit}".strip()
    if kind == "int":
        return f"{int(value)} {unit}".strip()
    if kind == "bool":
        return "是" if value else "否"
    if kind == "tiers":
        parts = []
        for lo, hi, amount in value:
            ages = f"{lo}–{hi}岁" if hi is not None else f"{lo}岁及以上"
            parts.append(f"{ages} {Decimal(amount):.2f} {unit}")
        return "；".join(parts)
    if kind == "pairs_decimal":
        return "；".join(f"{words.get(k, k)} {Decimal(v):.2f} {unit}" for k, v in as_mapping(value).items())
    if kind == "pairs_int":
        return "；".join(f"{words.get(k, k)} {int(v)} {unit}" for k, v in as_mapping(value).items())
    if kind == "str_list":
        return "、".join(words.get(v, v) for v in value) or "无"
    if kind == "json":
        return f"{len(value)} 条规则" if isinstance(value, (list, tuple)) else "已设置"
    return words.get(str(value), str(value))


def _freeze(data: Any) -> Any:
    """JSON (lists, dicts) -> hashable tuples, so a rule value stays immutable inside a RuleSet."""
    if isinstance(data, dict):
        items: tuple[Any, ...] = tuple((k, _freeze(v)) for k, v in sorted(data.items()))
        return ("__dict__",) + items
    if isinstance(data, list):
        return tuple(_freeze(v) for v in data)
    return data


def _thaw(value: Any) -> Any:
    """The inverse of _freeze: tuples -> lists, tagged tuples -> dicts."""
    if isinstance(value, tuple) and value[:1] == ("__dict__",):
        return {k: _thaw(v) for k, v in value[1:]}
    if isinstance(value, (tuple, list)):
        return [_thaw(v) for v in value]
    return value


thaw = _thaw

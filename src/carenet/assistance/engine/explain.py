"""Explanation steps: a stable code + parameters, rendered in Chinese and English.

Every engine decision appends ``Step`` objects. The UI can either show
``step.zh`` directly or translate ``step.code`` with ``step.params`` itself.
Parameters are plain strings (amounts formatted with 2 dp) so that they can be
stored as JSON and re-rendered later without the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from .money import fmt

# code -> (zh template, en template). Templates use str.format(**params).
MESSAGES: dict[str, tuple[str, str]] = {
    # rules
    "rule.resolved": ("{key_label}：{value}（{division} 自 {effective_from} 起执行）",
                      "{key}: {value} (set by {division}, effective {effective_from})"),
    # household members
    "member.counted": ("{name}（{relation_label}）计入共同生活家庭成员：{why}",
                       "{name} ({relation}) counted as household member: {why_en}"),
    "member.not_counted": ("{name}（{relation_label}）不计入共同生活家庭成员：{why}",
                           "{name} ({relation}) not counted as household member: {why_en}"),
    "household.size": ("共同生活家庭成员共 {size} 人", "household size: {size}"),
    # income
    "income.item": ("{name} {type_label}月收入 {amount} 元，计入", "{name} {type} monthly income {amount}: counted"),
    "income.excluded_type": ("{name} {type_label} {amount} 元不计入家庭收入", "{name} {type} {amount}: excluded by rule"),
    "income.member_not_counted": ("{name} 不是共同生活家庭成员，其收入 {amount} 元不计入",
                                  "{name} is not a household member; income {amount} ignored"),
    "income.employment_cost": ("{name} 工资性收入扣减必要就业成本 {amount} 元",
                               "{name}: employment cost {amount} deducted from wages"),
    "income.employment_disregard": ("{name} 享受低保期间新增就业收入 {amount} 元不计入（上限为低保标准 {multiple} 倍即 {cap} 元，期限 {months} 个月内）",
                                    "{name}: new employment income {amount} disregarded while on dibao (cap {multiple}x standard = {cap}, within {months} months)"),
    "income.total": ("家庭月收入合计 {gross} 元，不计入 {disregarded} 元，计算收入 {counted} 元",
                     "household monthly income {gross}, disregarded {disregarded}, counted {counted}"),
    "expense.deducted": ("刚性支出（{type_label}）每月 {amount} 元予以扣减", "rigid expense {type} {amount}/month deducted"),
    "expense.not_deductible": ("{type_label}支出 {amount} 元按当地规定不予扣减", "expense {type} {amount} not deductible by local rule"),
    "income.per_capita": ("家庭人均月收入 = ({counted} − {expenses}) ÷ {size} = {per_capita} 元",
                          "per-capita monthly income = ({counted} - {expenses}) / {size} = {per_capita}"),
    # assets
    "asset.deposits_ok": ("人均存款及有价证券 {per_capita} 元 ≤ 限额 {limit} 元", "deposits per capita {per_capita} <= limit {limit}"),
    "asset.deposits_over": ("人均存款及有价证券 {per_capita} 元 > 限额 {limit} 元，不符合财产条件", "deposits per capita {per_capita} > limit {limit}: fails asset test"),
    "asset.vehicles_ok": ("机动车 {count} 辆（不含残疾人功能性补偿代步车），不超过 {limit} 辆", "vehicles {count} (excluding disability mobility vehicles) <= {limit}"),
    "asset.vehicles_over": ("机动车 {count} 辆（不含残疾人功能性补偿代步车），超过 {limit} 辆，不符合财产条件", "vehicles {count} > {limit}: fails asset test"),
    "asset.housing_ok": ("住房 {count} 套，不超过 {limit} 套", "housing units {count} <= {limit}"),
    "asset.housing_over": ("住房 {count} 套，超过 {limit} 套，不符合财产条件", "housing units {count} > {limit}: fails asset test"),
    # dibao
    "dibao.standard": ("当地{program_label}标准 {standard} 元/人·月（{division} 自 {effective_from} 起）",
                       "local {program} standard {standard}/person/month ({division}, from {effective_from})"),
    "dibao.below_standard": ("家庭人均收入 {per_capita} < 当地低保标准 {standard}，符合收入条件",
                             "per-capita income {per_capita} < standard {standard}: income test passed"),
    "dibao.not_below_standard": ("家庭人均收入 {per_capita} ≥ 当地低保标准 {standard}，不符合收入条件",
                                 "per-capita income {per_capita} >= standard {standard}: income test failed"),
    "dibao.amount": ("低保金 = 标准 {standard} × {size} 人 − 家庭月收入 {net} = {amount} 元/月（差额发放，即（标准 − 人均收入）× 人数）",
                     "dibao = standard {standard} x {size} - household income {net} = {amount}/month (the difference)"),
    "dibao.minimum_applied": ("人均补差 {gap} 元低于最低发放额 {minimum} 元，按每人 {minimum} 元发放，共 {amount} 元/月",
                              "gap per person {gap} below minimum {minimum}: pay {minimum}/person, total {amount}/month"),
    "dibao.assets_failed": ("家庭财产状况不符合规定，不予保障", "assets exceed the limits: not eligible"),
    "dibao.no_members": ("没有共同生活的家庭成员，无法认定", "no counted household members"),
    # marginal
    "marginal.threshold": ("低保边缘认定线 = {multiple} × {standard} = {threshold} 元", "marginal threshold = {multiple} x {standard} = {threshold}"),
    "marginal.capped_by_min_wage": ("认定线不得超过月最低工资标准 {min_wage} 元，按 {threshold} 元执行", "threshold capped by monthly minimum wage {min_wage}: {threshold}"),
    "marginal.qualifies_dibao": ("人均收入 {per_capita} < 低保标准 {standard}，应按低保认定", "per-capita income {per_capita} < standard {standard}: assess for dibao instead"),
    "marginal.eligible": ("人均收入 {per_capita} ≤ 认定线 {threshold}，认定为低保边缘家庭", "per-capita income {per_capita} <= threshold {threshold}: marginal family"),
    "marginal.above": ("人均收入 {per_capita} > 认定线 {threshold}，不属于低保边缘家庭", "per-capita income {per_capita} > threshold {threshold}: not marginal"),
    # tekun
    "tekun.category": ("{name} 属于{category_label}", "{name} is in category {category}"),
    "tekun.no_category": ("{name} 不属于老年人、残疾人或未满16周岁未成年人", "{name} is not elderly, disabled or under 16"),
    "tekun.no_labour_ok": ("无劳动能力：{why}", "no labour capacity: {why_en}"),
    "tekun.has_labour": ("有劳动能力，不符合特困条件", "has labour capacity: not eligible"),
    "tekun.no_income_ok": ("月收入 {income} 元 < 当地低保标准 {standard} 元，视为无生活来源", "monthly income {income} < standard {standard}: no means of living"),
    "tekun.has_income": ("月收入 {income} 元 ≥ 当地低保标准 {standard} 元，有生活来源", "monthly income {income} >= standard {standard}: has means of living"),
    "tekun.assets_over": ("存款 {deposits} 元超过限额 {limit} 元，有生活来源", "deposits {deposits} > limit {limit}: has means of living"),
    "tekun.no_supporter_ok": ("无法定赡养、抚养、扶养义务人，或义务人均无履行能力", "no legal supporter, or none able to support"),
    "tekun.has_supporter": ("有具备履行能力的法定义务人：{who}", "has an able legal supporter: {who}"),
    "tekun.basic": ("基本生活标准 {amount} 元/月", "basic living standard {amount}/month"),
    "tekun.care": ("照料护理标准（{level_label}）{amount} 元/月", "care allowance ({level}) {amount}/month"),
    "tekun.total": ("特困供养金合计 {amount} 元/月，{mode_label}", "tekun total {amount}/month, {mode}"),
    # temporary aid
    "temp.type_emergency": ("急难型临时救助：因意外事件、突发重大疾病等导致基本生活暂时出现严重困难", "emergency-type temporary aid"),
    "temp.type_expense": ("支出型临时救助：生活必需支出突然增加超出家庭承受能力", "expense-type temporary aid"),
    "temp.expense_requires_status": ("支出型临时救助仅适用于低保家庭和低保边缘家庭", "expense-type aid requires a dibao or marginal household"),
    "temp.cap": ("救助上限 = {multiple} 倍低保标准 {standard} × {persons} 人 = {cap} 元", "cap = {multiple} x standard {standard} x {persons} persons = {cap}"),
    "temp.granted": ("申请 {requested} 元，核定救助 {amount} 元", "requested {requested}, granted {amount}"),
    "temp.capped": ("申请 {requested} 元超过上限，按上限 {amount} 元救助", "requested {requested} exceeds the cap: granted {amount}"),
    "temp.first_aid": ("救助金额 {amount} 元 ≤ 先行救助限额 {limit} 元，可先行救助、事后补办手续", "amount {amount} <= first-aid limit {limit}: may be paid first, paperwork after"),
    "temp.no_first_aid": ("救助金额 {amount} 元 > 先行救助限额 {limit} 元，按正常程序审批", "amount {amount} > first-aid limit {limit}: normal procedure"),
    "temp.township_approval": ("救助金额 {amount} 元 ≤ {limit} 元，可委托乡镇（街道）审批", "amount {amount} <= {limit}: approval may be delegated to the township"),
    "temp.nothing_requested": ("申请金额为零", "nothing requested"),
    # elderly allowance
    "elderly.age": ("出生日期 {birth_date}，截至 {on_date} 年满 {age} 周岁", "born {birth_date}, aged {age} on {on_date}"),
    "elderly.tier": ("适用 {tier} 档，高龄津贴 {amount} 元/月", "tier {tier}: allowance {amount}/month"),
    "elderly.under_age": ("未满 {min_age} 周岁，不享受高龄津贴", "under {min_age}: no allowance"),
    # warm fund
    "warm.granted": ("暖心基金一次性救助 {amount} 元", "warm fund one-off grant {amount}"),
    "warm.capped": ("申请 {requested} 元超过单次上限 {max} 元，按 {amount} 元救助", "requested {requested} exceeds the maximum {max}: granted {amount}"),
    "warm.too_soon": ("上次救助于 {last}，未满 {months} 个月，不予重复救助", "last grant on {last}, within {months} months: not eligible again"),
    "warm.nothing_requested": ("申请金额为零", "nothing requested"),
}


def _render(template: str, params: Mapping[str, str]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


@dataclass(frozen=True)
class Step:
    """One explained step. ``params`` values are strings (JSON friendly)."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def zh(self) -> str:
        return _render(MESSAGES.get(self.code, (self.code, self.code))[0], self.params)

    @property
    def en(self) -> str:
        return _render(MESSAGES.get(self.code, (self.code, self.code))[1], self.params)

    def as_dict(self) -> dict:
        return {"code": self.code, "params": dict(self.params), "zh": self.zh}

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.zh


def step(code: str, **params: Any) -> Step:
    """Build a Step, formatting Decimals with 2 dp and everything else with str()."""
    clean = {}
    for k, v in params.items():
        if isinstance(v, Decimal):
            clean[k] = fmt(v)
        else:
            clean[k] = "" if v is None else str(v)
    return Step(code, clean)

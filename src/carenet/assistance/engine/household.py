"""Household assessment: members, income, disregards, rigid expenses, assets.

Member rules follow 最低生活保障审核确认办法 Art. 7 (共同生活的家庭成员):

counted:
  (1) the applicant and the spouse;
  (2) minor children;
  (3) adult children who cannot live independently, including those in
      full-time education at bachelor level or below;
  (4) other persons with a statutory duty of support (赡养、扶养、抚养) to or
      from the applicant who live together long-term.
not counted:
  (1) clergy who have lived apart from the family for 3 years or more;
  (2) persons serving a prison sentence, in compulsory drug rehabilitation,
      or declared missing;
  (3) others so determined by the provincial civil-affairs department.

The engine takes these facts as inputs (it does not decide whether someone
"cannot live independently"; the survey records that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .explain import Step, step
from .money import ZERO, to_decimal, yuan
from .rules import KEY_LABELS_ZH, RuleSet, dibao_program

RELATION_LABELS_ZH = {
    "applicant": "申请人", "spouse": "配偶", "child": "子女", "parent": "父母",
    "grandparent": "祖父母/外祖父母", "grandchild": "孙子女/外孙子女", "sibling": "兄弟姐妹",
    "other": "其他亲属",
}

EXCLUSION_REASONS = {
    # code: (zh, en)
    "clergy_3y": ("连续三年以上脱离家庭独立生活的宗教教职人员", "clergy living apart from the family for 3+ years"),
    "imprisoned": ("在监狱内服刑人员", "serving a prison sentence"),
    "compulsory_rehab": ("在强制隔离戒毒所戒毒人员", "in compulsory drug rehabilitation"),
    "declared_missing": ("宣告失踪人员", "declared missing"),
    "provincial_other": ("省级民政部门认定不计入的其他人员", "excluded by provincial determination"),
}

INCOME_TYPE_LABELS_ZH = {
    "wage": "工资性", "business": "经营净", "property": "财产净", "transfer": "转移净",
    "pension": "养老金", "basic_pension_base": "城乡居民基础养老金", "maintenance": "赡养/抚养/扶养费",
    "special_care": "优待抚恤金", "reward": "奖励性补助", "social_assistance": "社会救助款物",
    "other": "其他",
}

EXPENSE_LABELS_ZH = {"medical": "医疗", "education": "教育", "other": "其他"}

ADULT_AGE = 18


def age_on(birth_date: date, on_date: date) -> int:
    """Completed years on ``on_date``. A 29 Feb birthday is reached on 1 Mar in common years."""
    years = on_date.year - birth_date.year
    if (on_date.month, on_date.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True)
class Member:
    person_id: str
    name: str
    relation: str  # relation to the applicant, see RELATION_LABELS_ZH
    birth_date: date
    cohabiting: bool = True  # lives with the applicant long-term (长期共同居住)
    statutory_support_duty: bool = False  # for parent/sibling/grandparent/other: 法定赡养、扶养、抚养义务关系
    cannot_live_independently: bool = False  # adult child: 不能独立生活 (e.g. severe disability)
    full_time_student: bool = False  # adult child in full-time education at bachelor level or below
    exclusion: str | None = None  # one of EXCLUSION_REASONS
    employable: bool = False  # 有劳动能力 (used for the employment-cost deduction)


@dataclass(frozen=True)
class IncomeItem:
    person_id: str
    type: str  # see INCOME_TYPE_LABELS_ZH
    monthly_amount: Decimal
    employment_started_on: date | None = None  # for wages found while the household receives 低保


@dataclass(frozen=True)
class RigidExpense:
    type: str  # "medical" | "education" | "other"
    monthly_amount: Decimal  # average monthly out-of-pocket amount over the assessment period


@dataclass(frozen=True)
class Assets:
    deposits: Decimal = ZERO  # deposits and securities of the whole household, yuan
    housing_units: int = 0
    vehicles: int = 0
    exempt_vehicles: int = 0  # disability mobility vehicles (残疾人功能性补偿代步机动车)


@dataclass(frozen=True)
class Household:
    household_id: str
    division_path: tuple[str, ...]  # root first, e.g. ("330000","330100","330106","330106001")
    area: str  # "urban" | "rural"
    members: tuple[Member, ...]
    incomes: tuple[IncomeItem, ...] = ()
    assets: Assets = Assets()
    rigid_expenses: tuple[RigidExpense, ...] = ()
    receiving_dibao: bool = False  # already a 低保 household (enables the employment disregard)

    @property
    def program(self) -> str:
        return dibao_program(self.area)


@dataclass(frozen=True)
class MemberDecision:
    member: Member
    counted: bool
    reason_code: str
    step: Step


@dataclass(frozen=True)
class HouseholdAssessment:
    household_id: str
    on_date: date
    counted: tuple[Member, ...]
    not_counted: tuple[MemberDecision, ...]
    size: int
    gross_income: Decimal
    disregarded_income: Decimal
    counted_income: Decimal
    rigid_expenses: Decimal
    per_capita_income: Decimal
    assets_ok: bool
    asset_failures: tuple[str, ...]
    standard: Decimal  # the 低保 standard used for disregards and asset limits
    steps: tuple[Step, ...]
    provenance: tuple[dict, ...] = field(default=())


def classify_member(m: Member, on_date: date) -> MemberDecision:
    """Apply 最低生活保障审核确认办法 Art. 7 to one person."""
    rel_zh = RELATION_LABELS_ZH.get(m.relation, m.relation)

    def out(counted: bool, code: str, zh: str, en: str) -> MemberDecision:
        s = step("member.counted" if counted else "member.not_counted", name=m.name, relation=m.relation,
                 relation_label=rel_zh, why=zh, why_en=en, reason=code)
        return MemberDecision(m, counted, code, s)

    if m.exclusion:
        if m.exclusion not in EXCLUSION_REASONS:
            raise ValueError(f"unknown exclusion {m.exclusion!r}")
        zh, en = EXCLUSION_REASONS[m.exclusion]
        return out(False, f"excluded.{m.exclusion}", zh, en)
    if m.relation == "applicant":
        return out(True, "applicant", "申请人本人", "the applicant")
    if m.relation == "spouse":
        return out(True, "spouse", "配偶", "spouse")
    if m.relation == "child":
        age = age_on(m.birth_date, on_date)
        if age < ADULT_AGE:
            return out(True, "minor_child", f"未成年子女（{age}周岁）", f"minor child (aged {age})")
        if m.full_time_student:
            return out(True, "adult_child_student", "在校接受全日制本科及以下学历教育的成年子女",
                       "adult child in full-time education (bachelor or below)")
        if m.cannot_live_independently:
            return out(True, "adult_child_dependent", "已成年但不能独立生活的子女", "adult child who cannot live independently")
        return out(False, "adult_child_independent", "已成年且能独立生活的子女", "adult child who lives independently")
    # parents, grandparents, siblings, grandchildren, others
    if m.statutory_support_duty and m.cohabiting:
        return out(True, "support_duty_cohabiting", "具有法定赡养、扶养、抚养义务关系并长期共同居住",
                   "statutory support relationship and long-term cohabitation")
    if m.statutory_support_duty:
        return out(False, "support_duty_not_cohabiting", "有法定义务关系但未长期共同居住",
                   "statutory support relationship but not living together")
    return out(False, "no_support_duty", "无法定赡养、扶养、抚养义务关系", "no statutory support relationship")


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + (end.month - start.month) - (1 if end.day < start.day else 0)


def assess_household(h: Household, rules: RuleSet, on_date: date, program: str | None = None) -> HouseholdAssessment:
    """Members, income with disregards, rigid expenses, per-capita income and assets.

    ``program`` selects program-specific asset limits (e.g. ``marginal``); the
    低保 standard used for disregards always comes from the household's area.
    """
    dprog = h.program
    prog = program or dprog
    path = h.division_path
    steps: list[Step] = []
    prov: list[dict] = []

    def rv(key: str, p: str = prog) -> Any:
        r = rules.resolve(key, p, path, on_date)
        prov.append(r.provenance)
        return r.value

    std_r = rules.resolve("dibao_monthly", dprog, path, on_date)
    prov.append(std_r.provenance)
    standard = yuan(std_r.value)

    # 1. members
    decisions = [classify_member(m, on_date) for m in h.members]
    if sum(1 for m in h.members if m.relation == "applicant") != 1:
        raise ValueError("a household needs exactly one member with relation 'applicant'")
    counted = tuple(d.member for d in decisions if d.counted)
    steps.extend(d.step for d in decisions)
    size = len(counted)
    steps.append(step("household.size", size=size))
    counted_ids = {m.person_id for m in counted}
    by_id = {m.person_id: m for m in h.members}

    # 2. income
    excluded_types = set(rv("income_excluded_types"))
    cost_deduction = to_decimal(rv("employment_cost_deduction"))
    disregard_multiple = to_decimal(rv("employment_disregard_multiple"))
    disregard_months = int(rv("employment_disregard_months"))
    gross = ZERO
    disregarded = ZERO
    for item in h.incomes:
        amount = to_decimal(item.monthly_amount)
        member = by_id.get(item.person_id)
        name = member.name if member else item.person_id
        type_label = INCOME_TYPE_LABELS_ZH.get(item.type, item.type)
        if item.person_id not in counted_ids:
            steps.append(step("income.member_not_counted", name=name, amount=amount))
            continue
        gross += amount
        if item.type in excluded_types:
            disregarded += amount
            steps.append(step("income.excluded_type", name=name, type=item.type, type_label=type_label, amount=amount))
            continue
        counted_amount = amount
        if item.type == "wage":
            if h.receiving_dibao and item.employment_started_on is not None \
                    and item.employment_started_on <= on_date \
                    and _months_between(item.employment_started_on, on_date) < disregard_months:
                cap = yuan(standard * disregard_multiple)
                d = min(counted_amount, cap)
                counted_amount -= d
                disregarded += d
                steps.append(step("income.employment_disregard", name=name, amount=d,
                                  multiple=disregard_multiple.normalize(), cap=cap, months=disregard_months))
            if member is not None and member.employable and cost_deduction > 0 and counted_amount > 0:
                d = min(counted_amount, cost_deduction)
                counted_amount -= d
                disregarded += d
                steps.append(step("income.employment_cost", name=name, amount=d))
        steps.append(step("income.item", name=name, type=item.type, type_label=type_label, amount=counted_amount))
    counted_income = gross - disregarded
    steps.append(step("income.total", gross=gross, disregarded=disregarded, counted=counted_income))

    # 3. rigid expenses
    deductible = set(rv("rigid_expense_deductible"))
    expenses = ZERO
    for e in h.rigid_expenses:
        amount = to_decimal(e.monthly_amount)
        label = EXPENSE_LABELS_ZH.get(e.type, e.type)
        if e.type in deductible:
            expenses += amount
            steps.append(step("expense.deducted", type=e.type, type_label=label, amount=amount))
        else:
            steps.append(step("expense.not_deductible", type=e.type, type_label=label, amount=amount))

    # 4. per capita (rounded half-up to the fen, never below zero)
    if size:
        per_capita = yuan(max(counted_income - expenses, ZERO) / size)
        steps.append(step("income.per_capita", counted=counted_income, expenses=expenses, size=size, per_capita=per_capita))
    else:
        per_capita = ZERO
        steps.append(step("dibao.no_members"))

    # 5. assets
    failures: list[str] = []
    a = h.assets
    limit_months = to_decimal(rv("deposit_limit_months"))
    deposit_limit = yuan(standard * limit_months)
    dep_pc = yuan(to_decimal(a.deposits) / size) if size else yuan(a.deposits)
    if dep_pc > deposit_limit:
        failures.append("deposits")
        steps.append(step("asset.deposits_over", per_capita=dep_pc, limit=deposit_limit))
    else:
        steps.append(step("asset.deposits_ok", per_capita=dep_pc, limit=deposit_limit))
    max_vehicles = int(rv("max_vehicles"))
    vehicles = max(a.vehicles - a.exempt_vehicles, 0)
    if vehicles > max_vehicles:
        failures.append("vehicles")
        steps.append(step("asset.vehicles_over", count=vehicles, limit=max_vehicles))
    else:
        steps.append(step("asset.vehicles_ok", count=vehicles, limit=max_vehicles))
    max_housing = int(rv("max_housing_units"))
    if a.housing_units > max_housing:
        failures.append("housing")
        steps.append(step("asset.housing_over", count=a.housing_units, limit=max_housing))
    else:
        steps.append(step("asset.housing_ok", count=a.housing_units, limit=max_housing))

    return HouseholdAssessment(
        household_id=h.household_id, on_date=on_date, counted=counted,
        not_counted=tuple(d for d in decisions if not d.counted), size=size,
        gross_income=yuan(gross), disregarded_income=yuan(disregarded), counted_income=yuan(counted_income),
        rigid_expenses=yuan(expenses), per_capita_income=per_capita, assets_ok=not failures,
        asset_failures=tuple(failures), standard=standard, steps=tuple(steps), provenance=tuple(prov),
    )


__all__ = [
    "Member", "IncomeItem", "RigidExpense", "Assets", "Household", "MemberDecision", "HouseholdAssessment",
    "classify_member", "assess_household", "age_on", "KEY_LABELS_ZH", "EXCLUSION_REASONS",
]

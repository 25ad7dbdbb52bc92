"""Eligibility and amounts per program. Every function returns an ``Outcome``.

Programs and legal basis (see docs/assistance-rules.md):

* 低保 (urban / rural): 社会救助暂行办法 Arts. 9, 12; 浙江省社会救助条例 Arts. 9, 12.
* 低保边缘: 浙江省社会救助条例 Art. 13.
* 特困: 社会救助暂行办法 Arts. 14, 15, 19; 浙江省社会救助条例 Arts. 14, 16.
* 临时救助: 社会救助暂行办法 Arts. 47-49; 浙江省社会救助条例 Arts. 38-40.
* 高龄津贴, 暖心基金: local programs; all figures are dated rule keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Sequence

from .explain import Step, step
from .household import Household, HouseholdAssessment, age_on, assess_household, classify_member
from .money import ZERO, to_decimal, yuan
from .rules import (
    DIBAO_RURAL, DIBAO_URBAN, ELDERLY, MARGINAL, PROGRAM_LABELS_ZH, TEKUN, TEMP_AID, WARM_FUND,
    RuleSet, as_mapping, dibao_program,
)


@dataclass(frozen=True)
class Outcome:
    program: str
    eligible: bool
    code: str  # stable result code, e.g. "dibao.eligible", "dibao.income_above_standard"
    steps: tuple[Step, ...]
    monthly_amount: Decimal | None = None  # recurring programs
    grant_amount: Decimal | None = None  # one-off programs
    persons: int = 0  # persons covered (for payroll summaries)
    details: dict = field(default_factory=dict)
    provenance: tuple[dict, ...] = ()

    @property
    def explanation(self) -> list[str]:
        """The steps in Chinese, one line each."""
        return [s.zh for s in self.steps]


def _std_step(rules: RuleSet, program: str, path: Sequence[str], on_date: date) -> tuple[Decimal, Step, dict]:
    r = rules.resolve("dibao_monthly", program, path, on_date)
    standard = yuan(r.value)
    s = step("dibao.standard", program=program, program_label=PROGRAM_LABELS_ZH[program], standard=standard,
             division=r.division_code, effective_from=r.effective_from.isoformat())
    return standard, s, r.provenance


# ---------------------------------------------------------------- 低保

def assess_dibao(h: Household, rules: RuleSet, on_date: date,
                 assessment: HouseholdAssessment | None = None) -> Outcome:
    """低保: per-capita income below the standard and assets within the limits.

    amount = (standard − per-capita income) × household size (差额发放), rounded
    to the fen; if the per-person gap is below ``dibao_min_per_person`` (>0),
    the minimum is paid per person instead.
    """
    program = dibao_program(h.area)
    a = assessment or assess_household(h, rules, on_date, program)
    standard, std_step, prov = _std_step(rules, program, h.division_path, on_date)
    steps = list(a.steps) + [std_step]
    provenance = a.provenance + (prov,)
    details: dict[str, Any] = {"per_capita_income": a.per_capita_income, "standard": standard, "size": a.size}
    if a.size == 0:
        return Outcome(program=program, eligible=False, code="dibao.no_members", steps=tuple(steps),
                       persons=0, details=details, provenance=provenance)
    if not a.assets_ok:
        steps.append(step("dibao.assets_failed"))
        return Outcome(program=program, eligible=False, code="dibao.assets_exceed_limits", steps=tuple(steps),
                       persons=a.size, details={**details, "asset_failures": a.asset_failures},
                       provenance=provenance)
    if a.per_capita_income >= standard:
        steps.append(step("dibao.not_below_standard", per_capita=a.per_capita_income, standard=standard))
        return Outcome(program=program, eligible=False, code="dibao.income_above_standard", steps=tuple(steps),
                       persons=a.size, details=details, provenance=provenance)
    steps.append(step("dibao.below_standard", per_capita=a.per_capita_income, standard=standard))
    # One rounding, at the end: on household totals, (standard − per-capita income) × size equals
    # standard × size − household income exactly, so 3 people with 620 yuan against 1000 get 2380.00,
    # not (1000 − 206.67) × 3 = 2379.99 (docs/assistance-rules.md, "Money").
    net = max(a.counted_income - a.rigid_expenses, ZERO)
    gap = standard - net / a.size
    amount = yuan(standard * a.size - net)
    steps.append(step("dibao.amount", standard=standard, per_capita=a.per_capita_income, size=a.size, net=net,
                      amount=amount))
    minimum = yuan(rules.value("dibao_min_per_person", program, h.division_path, on_date, default=ZERO) or ZERO)
    if minimum > 0 and gap < minimum:
        amount = yuan(minimum * a.size)
        steps.append(step("dibao.minimum_applied", gap=gap, minimum=minimum, amount=amount))
    return Outcome(program=program, eligible=True, code="dibao.eligible", steps=tuple(steps), monthly_amount=amount,
                   persons=a.size, details=details, provenance=provenance)


# ---------------------------------------------------------------- 低保边缘

def assess_marginal(h: Household, rules: RuleSet, on_date: date) -> Outcome:
    """低保边缘: not eligible for 低保, per-capita income ≤ multiple × standard
    (浙江 Art. 13: "一点五倍以下"), threshold capped by the monthly minimum wage
    when ``min_wage_monthly`` is set, assets within the (marginal) limits.
    A status for special assistance: no monthly amount."""
    program = dibao_program(h.area)
    a = assess_household(h, rules, on_date, MARGINAL)
    standard, std_step, prov = _std_step(rules, program, h.division_path, on_date)
    steps = list(a.steps) + [std_step]
    provenance = a.provenance + (prov,)
    details = {"per_capita_income": a.per_capita_income, "standard": standard}
    multiple = to_decimal(rules.value("marginal_multiple", MARGINAL, h.division_path, on_date))
    threshold = yuan(standard * multiple)
    steps.append(step("marginal.threshold", multiple=multiple.normalize(), standard=standard, threshold=threshold))
    min_wage = rules.value("min_wage_monthly", MARGINAL, h.division_path, on_date, default=None)
    if min_wage is not None and yuan(min_wage) < threshold:
        threshold = yuan(min_wage)
        steps.append(step("marginal.capped_by_min_wage", min_wage=threshold, threshold=threshold))
    details["threshold"] = threshold

    def done(eligible: bool, code: str) -> Outcome:
        return Outcome(program=MARGINAL, eligible=eligible, code=code, steps=tuple(steps), persons=a.size,
                       details=details, provenance=provenance)

    if a.size == 0:
        return done(False, "marginal.no_members")
    if not a.assets_ok:
        steps.append(step("dibao.assets_failed"))
        return done(False, "marginal.assets_exceed_limits")
    if a.per_capita_income < standard:
        steps.append(step("marginal.qualifies_dibao", per_capita=a.per_capita_income, standard=standard))
        return done(False, "marginal.qualifies_for_dibao")
    if a.per_capita_income <= threshold:
        steps.append(step("marginal.eligible", per_capita=a.per_capita_income, threshold=threshold))
        return done(True, "marginal.eligible")
    steps.append(step("marginal.above", per_capita=a.per_capita_income, threshold=threshold))
    return done(False, "marginal.income_above_threshold")


# ---------------------------------------------------------------- 特困

CARE_LEVEL_LABELS_ZH = {"self_care": "生活自理", "partial": "部分失能（半护理）", "full": "完全失能（全护理）"}
SUPPORT_MODE_LABELS_ZH = {"dispersed": "分散供养（居家）", "centralised": "集中供养（供养服务机构）"}
CATEGORY_LABELS_ZH = {"elderly": "老年人（60周岁以上）", "disabled": "残疾人", "minor": "未满16周岁的未成年人"}


@dataclass(frozen=True)
class Supporter:
    """A person with a statutory duty to support the applicant (赡养/抚养/扶养义务人)."""
    name: str
    relation: str
    able_to_support: bool  # 有履行义务能力 (per the survey)


@dataclass(frozen=True)
class TekunApplicant:
    person_id: str
    name: str
    birth_date: date
    division_path: tuple[str, ...]
    area: str  # "urban" | "rural" (selects the 低保 standard used for the income test)
    support_mode: str  # "dispersed" | "centralised"
    care_level: str  # "self_care" | "partial" | "full"
    disability_grade: int | None = None  # 1..4, None = not disabled
    disability_kind: str | None = None  # "intellectual", "mental", "physical", ...
    labour_capacity: bool | None = None  # explicit assessment; None = derive from age and disability
    monthly_income: Decimal = ZERO  # counted income (after the same exclusions as for 低保)
    deposits: Decimal = ZERO
    supporters: tuple[Supporter, ...] = ()


def _tekun_category(p: TekunApplicant, on_date: date) -> str | None:
    age = age_on(p.birth_date, on_date)
    if age >= 60:
        return "elderly"
    if age < 16:
        return "minor"
    if p.disability_grade is not None:
        return "disabled"
    return None


def _no_labour_capacity(p: TekunApplicant, on_date: date) -> tuple[bool, str, str]:
    if p.labour_capacity is not None:
        return (not p.labour_capacity, "经劳动能力评估", "by labour-capacity assessment")
    age = age_on(p.birth_date, on_date)
    if age >= 60:
        return True, f"年满60周岁（{age}周岁）", f"aged 60 or over ({age})"
    if age < 16:
        return True, f"未满16周岁（{age}周岁）", f"under 16 ({age})"
    if p.disability_grade in (1, 2):
        return True, f"{p.disability_grade}级残疾", f"disability grade {p.disability_grade}"
    if p.disability_grade == 3 and p.disability_kind in ("intellectual", "mental"):
        return True, "三级智力或精神残疾", "grade 3 intellectual or mental disability"
    return False, "", ""


def assess_tekun(p: TekunApplicant, rules: RuleSet, on_date: date) -> Outcome:
    """特困: elderly / disabled / under 16, AND no labour capacity, AND no means
    of living, AND no able statutory supporter (社会救助暂行办法 Art. 14).

    amount = basic living standard + care allowance for the care level; the
    support mode decides the payee (person or institution), not the amount."""
    steps: list[Step] = []
    prov: list[dict] = []

    def rv(key: str, program: str = TEKUN) -> Any:
        r = rules.resolve(key, program, p.division_path, on_date)
        prov.append(r.provenance)
        return r.value

    details: dict = {"support_mode": p.support_mode, "care_level": p.care_level,
                     "payee": "institution" if p.support_mode == "centralised" else "person"}
    if p.support_mode not in SUPPORT_MODE_LABELS_ZH:
        raise ValueError(f"support_mode must be dispersed or centralised, not {p.support_mode!r}")
    if p.care_level not in CARE_LEVEL_LABELS_ZH:
        raise ValueError(f"unknown care_level {p.care_level!r}")

    def fail(code: str) -> Outcome:
        return Outcome(program=TEKUN, eligible=False, code=code, steps=tuple(steps), persons=1, details=details,
                       provenance=tuple(prov))

    cat = _tekun_category(p, on_date)
    if cat is None:
        steps.append(step("tekun.no_category", name=p.name))
        return fail("tekun.not_in_category")
    steps.append(step("tekun.category", name=p.name, category=cat, category_label=CATEGORY_LABELS_ZH[cat]))
    no_labour, why, why_en = _no_labour_capacity(p, on_date)
    if not no_labour:
        steps.append(step("tekun.has_labour"))
        return fail("tekun.has_labour_capacity")
    steps.append(step("tekun.no_labour_ok", why=why, why_en=why_en))
    dprog = dibao_program(p.area)
    standard = yuan(rv("dibao_monthly", dprog))
    income = yuan(p.monthly_income)
    if income >= standard:
        steps.append(step("tekun.has_income", income=income, standard=standard))
        return fail("tekun.has_means_of_living")
    deposit_limit = yuan(standard * to_decimal(rv("deposit_limit_months")))
    if yuan(p.deposits) > deposit_limit:
        steps.append(step("tekun.assets_over", deposits=yuan(p.deposits), limit=deposit_limit))
        return fail("tekun.has_means_of_living")
    steps.append(step("tekun.no_income_ok", income=income, standard=standard))
    able = [s for s in p.supporters if s.able_to_support]
    if able:
        steps.append(step("tekun.has_supporter", who="、".join(f"{s.name}（{s.relation}）" for s in able)))
        return fail("tekun.has_able_supporter")
    steps.append(step("tekun.no_supporter_ok"))
    basic = yuan(rv("tekun_basic_monthly"))
    care_table = as_mapping(rv("tekun_care_monthly"))
    care = yuan(care_table.get(p.care_level, ZERO))
    steps.append(step("tekun.basic", amount=basic))
    steps.append(step("tekun.care", level=p.care_level, level_label=CARE_LEVEL_LABELS_ZH[p.care_level], amount=care))
    total = yuan(basic + care)
    steps.append(step("tekun.total", amount=total, mode=p.support_mode, mode_label=SUPPORT_MODE_LABELS_ZH[p.support_mode]))
    details.update(basic=basic, care=care)
    return Outcome(program=TEKUN, eligible=True, code="tekun.eligible", steps=tuple(steps), monthly_amount=total,
                   persons=1, details=details, provenance=tuple(prov))


# ---------------------------------------------------------------- 临时救助

def assess_temp_aid(h: Household, rules: RuleSet, on_date: date, *, aid_type: str, requested: Decimal,
                    household_status: str = "none", special: bool = False, persons: int | None = None) -> Outcome:
    """临时救助 (one-off).

    * ``aid_type`` "emergency" (急难型: accident, sudden serious illness) or
      "expense" (支出型: necessary spending beyond the family's means) - the
      latter only for 低保 or 低保边缘 households (``household_status`` "dibao"
      or "marginal"), 浙江 Art. 38.
    * cap = multiple × 低保 standard × persons, multiple 6, or 12 when
      ``special`` (特别困难), 浙江 Art. 39(1).
    * 先行救助: grants ≤ ``first_aid_cap`` may be paid first (details['first_aid']).
    * grants ≤ ``temp_aid_township_approval_max`` may be approved by the
      township (details['township_may_approve']), 浙江 Art. 40.
    """
    if aid_type not in ("emergency", "expense"):
        raise ValueError("aid_type must be 'emergency' or 'expense'")
    path, dprog = h.division_path, dibao_program(h.area)
    standard, std_step, prov = _std_step(rules, dprog, path, on_date)
    steps: list[Step] = [step("temp.type_" + aid_type), std_step]
    provenance = [prov]
    # persons default to the counted household members (最低生活保障审核确认办法 Art. 7)
    n = persons if persons is not None else sum(1 for m in h.members if classify_member(m, on_date).counted)
    requested = yuan(requested)
    details: dict = {"aid_type": aid_type, "special": special, "requested": requested}
    if aid_type == "expense" and household_status not in ("dibao", "marginal"):
        steps.append(step("temp.expense_requires_status"))
        return Outcome(program=TEMP_AID, eligible=False, code="temp_aid.expense_requires_dibao_or_marginal",
                       steps=tuple(steps), persons=n, details=details, provenance=tuple(provenance))
    if requested <= 0:
        steps.append(step("temp.nothing_requested"))
        return Outcome(program=TEMP_AID, eligible=False, code="temp_aid.nothing_requested", steps=tuple(steps),
                       persons=n, details=details, provenance=tuple(provenance))
    key = "temp_aid_special_cap_multiple" if special else "temp_aid_cap_multiple"
    r = rules.resolve(key, TEMP_AID, path, on_date)
    provenance.append(r.provenance)
    multiple = to_decimal(r.value)
    cap = yuan(multiple * standard * n)
    steps.append(step("temp.cap", multiple=multiple.normalize(), standard=standard, persons=n, cap=cap))
    amount = min(requested, cap)
    steps.append(step("temp.capped" if requested > cap else "temp.granted", requested=requested, amount=amount))
    first_cap = yuan(rules.value("first_aid_cap", TEMP_AID, path, on_date))
    first_aid = amount <= first_cap
    steps.append(step("temp.first_aid" if first_aid else "temp.no_first_aid", amount=amount, limit=first_cap))
    town_max = rules.value("temp_aid_township_approval_max", TEMP_AID, path, on_date, default=None)
    township = town_max is not None and amount <= yuan(town_max)
    if township:
        steps.append(step("temp.township_approval", amount=amount, limit=yuan(town_max)))
    details.update(cap=cap, first_aid=first_aid, township_may_approve=township)
    return Outcome(program=TEMP_AID, eligible=True, code="temp_aid.eligible", steps=tuple(steps), grant_amount=amount,
                   persons=n, details=details, provenance=tuple(provenance))


# ---------------------------------------------------------------- 高龄津贴

def elderly_tiers(rules: RuleSet, path: Sequence[str], on_date: date) -> list[tuple[int, int | None, Decimal]]:
    tiers = [(int(lo), None if hi is None else int(hi), yuan(amt))
             for lo, hi, amt in rules.value("elderly_allowance_tiers", ELDERLY, path, on_date)]
    return sorted(tiers)


def assess_elderly_allowance(person_id: str, birth_date: date, division_path: Sequence[str], rules: RuleSet,
                             on_date: date) -> Outcome:
    """高龄津贴: the tier containing the age on ``on_date`` (completed years;
    a 29 Feb birthday is reached on 1 Mar in common years)."""
    r = rules.resolve("elderly_allowance_tiers", ELDERLY, division_path, on_date)
    tiers = elderly_tiers(rules, division_path, on_date)
    age = age_on(birth_date, on_date)
    steps = [step("elderly.age", birth_date=birth_date.isoformat(), on_date=on_date.isoformat(), age=age)]
    for lo, hi, amount in tiers:
        if age >= lo and (hi is None or age <= hi):
            label = f"{lo}-{hi}" if hi is not None else f"{lo}+"
            steps.append(step("elderly.tier", tier=label, amount=amount))
            return Outcome(program=ELDERLY, eligible=True, code="elderly.eligible", steps=tuple(steps),
                           monthly_amount=amount, persons=1, details={"age": age, "tier": label},
                           provenance=(r.provenance,))
    steps.append(step("elderly.under_age", min_age=tiers[0][0] if tiers else ""))
    return Outcome(program=ELDERLY, eligible=False, code="elderly.under_age", steps=tuple(steps), persons=1,
                   details={"age": age}, provenance=(r.provenance,))


# ---------------------------------------------------------------- 暖心基金

def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def assess_warm_fund(requested: Decimal, division_path: Sequence[str], rules: RuleSet, on_date: date,
                     previous_grants: Sequence[date] = ()) -> Outcome:
    """暖心基金: a one-off grant of at most ``warm_fund_max`` (5,000 by default),
    at most once per ``warm_fund_min_interval_months``."""
    r = rules.resolve("warm_fund_max", WARM_FUND, division_path, on_date)
    maximum = yuan(r.value)
    interval = int(rules.value("warm_fund_min_interval_months", WARM_FUND, division_path, on_date, default=0))
    requested = yuan(requested)
    steps: list[Step] = []
    details = {"requested": requested, "max": maximum}
    recent = [d for d in previous_grants if d <= on_date and _add_months(d, interval) > on_date]
    if recent:
        steps.append(step("warm.too_soon", last=max(recent).isoformat(), months=interval))
        return Outcome(program=WARM_FUND, eligible=False, code="warm_fund.too_soon", steps=tuple(steps),
                       details=details, provenance=(r.provenance,))
    if requested <= 0:
        steps.append(step("warm.nothing_requested"))
        return Outcome(program=WARM_FUND, eligible=False, code="warm_fund.nothing_requested", steps=tuple(steps),
                       details=details, provenance=(r.provenance,))
    amount = min(requested, maximum)
    if requested > maximum:
        steps.append(step("warm.capped", requested=requested, max=maximum, amount=amount))
    steps.append(step("warm.granted", amount=amount))
    return Outcome(program=WARM_FUND, eligible=True, code="warm_fund.eligible", steps=tuple(steps),
                   grant_amount=amount, persons=1, details=details, provenance=(r.provenance,))


__all__ = [
    "Outcome", "Supporter", "TekunApplicant", "assess_dibao", "assess_marginal", "assess_tekun",
    "assess_temp_aid", "assess_elderly_allowance", "assess_warm_fund", "elderly_tiers",
    "DIBAO_URBAN", "DIBAO_RURAL",
]

"""Integrity rules (民生监察) fed by the department loads: each load kind runs its rules over the records linked
to residents, and raises findings (once per rule, person and case) with their evidence.

- deaths: payments after the date of death;
- staff: near relatives of civil-affairs staff, or of staff of the township handling the case;
- assets: vehicles and homes above the limits in the current standards (max_vehicles, max_housing_units);
- income: department income more than 20 % above what the case declared for that person;
- benefits (other areas' or programs' payment rolls) and our own entitlements: paid twice.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, Sum

from carenet.assistance import models as am
from carenet.assistance import services as assistance
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.matching import models as m
from carenet.matching.engine import integrity as ei
from carenet.people.models import Resident

ASSET_KINDS = {"车辆": "vehicle", "机动车": "vehicle", "vehicle": "vehicle", "房产": "property", "住房": "property",
               "不动产": "property", "property": "property", "企业": "company", "公司": "company", "company": "company"}


def payments(ent: am.Entitlement) -> list[ei.Payment]:
    rows = (am.LedgerLine.objects.filter(entitlement=ent).values("period").annotate(s=Sum("amount"))
            .order_by("period"))
    return [ei.Payment(r["period"], r["s"]) for r in rows]


def raise_finding(finding: ei.Finding, *, resident: Resident, case: am.Case | None, division: Division,
                  load: m.Load | None) -> m.Finding | None:
    obj, created = m.Finding.objects.get_or_create(
        rule=finding.rule, resident=resident, case=case,
        defaults={"division": division, "summary": finding.summary[:300], "evidence": finding.evidence,
                  "amount": finding.amount, "months": finding.months, "source_load": load})
    if created:
        audit.record(AuditLog.Action.CREATE, obj, actor=None, division_path=division.path,
                     after={"rule": obj.rule, "amount": str(obj.amount)}, note="matching.finding")
        return obj
    return None


def _township_code(division: Division) -> str:
    return division.code[:9]


def _household_entitlements(res: Resident):
    """Running entitlements of the person or of their household's cases."""
    q = Q(payee=res)
    if res.household_id:
        q |= Q(case__household_id=res.household_id)
    return (am.Entitlement.objects.filter(q).filter(Q(stop_month__isnull=True) | Q(stop_month__gt=_this_month()))
            .select_related("case", "division", "township").distinct())


def _this_month() -> dt.date:
    return assistance.today().replace(day=1)


def run_checks(user, load: m.Load) -> list[m.Finding]:
    kind = load.source.kind
    fn = {m.Kind.DEATHS: _deaths, m.Kind.STAFF: _staff, m.Kind.ASSETS: _assets, m.Kind.INCOME: _income,
          m.Kind.BENEFITS: _benefits}.get(kind)
    out = fn(load) if fn else []
    if kind in (m.Kind.DEATHS, m.Kind.MEDICAL, m.Kind.SCHOOL, m.Kind.DISASTER, m.Kind.UNEMPLOYMENT):
        from carenet.matching import monitoring
        monitoring.score_after_load(load)
    return out


def _deaths(load: m.Load) -> list[m.Finding]:
    out = []
    for r in load.records.filter(resident__isnull=False).select_related("resident"):
        death = dt.date.fromisoformat(r.data["death_date"])
        for ent in am.Entitlement.objects.filter(payee=r.resident).select_related("case", "division"):
            f = ei.paid_after_death(death, payments(ent), load.source.name)
            if f:
                obj = raise_finding(f, resident=r.resident, case=ent.case, division=ent.division, load=load)
                out += [obj] if obj else []
    return out


def _staff(load: m.Load) -> list[m.Finding]:
    out = []
    by_rel: dict[str, list[m.DeptRecord]] = {}
    for r in load.records.all():
        h = r.data.get("relative_id_hash")
        if h:
            by_rel.setdefault(h, []).append(r)
    for res in Resident.objects.filter(id_number_hash__in=list(by_rel)):
        for ent in am.Entitlement.objects.filter(payee=res, stop_month__isnull=True).select_related("case", "division", "township"):
            rels = [ei.StaffRelative(s.name, s.data.get("employer", ""),
                                     s.data.get("civil_affairs", "").strip() in ("是", "1", "Y", "yes", "true"),
                                     (s.data.get("unit_division_code") or "")[:9] or None, s.data.get("relation", ""))
                    for s in by_rel[res.id_number_hash]]
            f = ei.staff_relative(_township_code(ent.township), rels)
            if f:
                obj = raise_finding(f, resident=res, case=ent.case, division=ent.division, load=load)
                out += [obj] if obj else []
    return out


def _limits(ent: am.Entitlement) -> dict:
    rules = assistance.rules_for(ent.division)
    path, on = assistance.path_codes(ent.division), assistance.today()
    return {"vehicle_count": rules.value("max_vehicles", ent.program, path, on, None),
            "property": rules.value("max_housing_units", ent.program, path, on, None)}


def _assets(load: m.Load) -> list[m.Finding]:
    """Assets of every member of a paid household, from this load, against the standards of the case's area."""
    out = []
    recs = list(load.records.filter(resident__isnull=False).select_related("resident"))
    by_household: dict[object, list[m.DeptRecord]] = defaultdict(list)
    for r in recs:
        by_household[r.resident.household_id or f"r{r.resident_id}"].append(r)
    seen: set[int] = set()
    for r in recs:
        for ent in _household_entitlements(r.resident):
            if ent.pk in seen or ent.program in am.ONE_OFF_PROGRAMS:
                continue
            seen.add(ent.pk)
            key = ent.case.household_id if ent.case_id and ent.case.household_id else f"r{ent.payee_id}"
            items = by_household.get(key) or [r]
            assets = [ei.Asset(ASSET_KINDS.get((x.data.get("asset_kind") or "").strip(), "other"),
                               f"{x.name}：{x.data.get('description') or x.data.get('asset_kind')}",
                               Decimal(x.data.get("value") or "0")) for x in items]
            f = ei.assets_over_limit(assets, _limits(ent))
            if f:
                f.evidence.append(f"来源：{load.source.name}（第{load.version}版）")
                obj = raise_finding(f, resident=ent.payee, case=ent.case, division=ent.division, load=load)
                out += [obj] if obj else []
    return out


def _declared(case: am.Case, res: Resident) -> Decimal:
    return sum((Decimal(str(i.get("amount", "0"))) for i in (case.facts or {}).get("incomes", [])
                if str(i.get("person_id") or case.applicant_id) == str(res.pk)), Decimal("0"))


def _income(load: m.Load) -> list[m.Finding]:
    out = []
    for r in load.records.filter(resident__isnull=False).select_related("resident"):
        dept = Decimal(r.data.get("monthly_income") or "0")
        for ent in _household_entitlements(r.resident):
            if not ent.case_id or ent.program in am.ONE_OFF_PROGRAMS:
                continue
            f = ei.income_underdeclared(_declared(ent.case, r.resident), dept, load.source.name)
            if f:
                f.evidence.insert(0, f"家庭成员：{r.resident.name}（{r.data.get('employer') or '单位不详'}）")
                obj = raise_finding(f, resident=r.resident, case=ent.case, division=ent.division, load=load)
                out += [obj] if obj else []
    return out


def _benefits(load: m.Load) -> list[m.Finding]:
    """Rows of another area's or program's payment roll against our running entitlements of the same person."""
    out = []
    program_of = {str(label): value for value, label in am.Program.choices}
    program_of.update({"低保": am.Program.DIBAO_URBAN, "城市低保": am.Program.DIBAO_URBAN,
                       "农村低保": am.Program.DIBAO_RURAL, "特困": am.Program.TEKUN, "特困供养": am.Program.TEKUN,
                       "高龄津贴": am.Program.ELDERLY})
    rows: dict[int, list[m.DeptRecord]] = defaultdict(list)
    for r in load.records.filter(resident__isnull=False).select_related("resident"):
        rows[r.resident_id].append(r)
    for rid, recs in rows.items():
        ents = list(am.Entitlement.objects.filter(payee_id=rid).filter(
            Q(stop_month__isnull=True) | Q(stop_month__gt=_this_month())).select_related("case", "division", "township"))
        if not ents:
            continue
        grants = [ei.Grant(e.get_program_display(), e.township.code, e.township.name, e.monthly_amount, True) for e in ents]
        for x in recs:
            prog = program_of.get((x.data.get("program") or "").strip())
            label = dict(am.Program.choices).get(prog, x.data.get("program")) if prog else x.data.get("program")
            grants.append(ei.Grant(str(label), "ext:" + (x.data.get("area_name") or ""), x.data.get("area_name") or "",
                                   Decimal(x.data.get("monthly_amount") or "0"), True))
        f = ei.paid_twice(grants)
        if f:
            f.evidence.append(f"来源：{load.source.name}（第{load.version}版）")
            ent = ents[0]
            obj = raise_finding(f, resident=ent.payee, case=ent.case, division=ent.division, load=load)
            out += [obj] if obj else []
    return out

"""Writes for cross-department checks: sources and loads, linking to residents, findings, recoveries.

Acts on assistance only through assistance.services (re-check on a finding, recovery lines).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import models as am
from carenet.assistance import services as assistance
from carenet.core import audit, pii
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.matching import models as m
from carenet.matching.engine import integrity as ei
from carenet.matching.linkage import normalize as nz
from carenet.people.models import Resident

log = logging.getLogger(__name__)


class MatchingError(Exception):
    pass


# ------------------------------------------------------------------ reading files

def read_table(data: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a .csv (UTF-8 with or without BOM, or GBK) or .xlsx file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise MatchingError(_("The Excel file cannot be read (%(err)s).") % {"err": type(exc).__name__}) from None
        rows = [["" if v is None else (v.isoformat()[:10] if isinstance(v, (dt.date, dt.datetime)) else str(v))
                 for v in r] for r in wb.active.iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise MatchingError(_("The file's encoding is neither UTF-8 nor GBK."))
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise MatchingError(_("Upload a .csv or .xlsx file."))
    rows = [r for r in rows if any((c or "").strip() for c in r)]
    if not rows:
        raise MatchingError(_("The file is empty."))
    return [c.strip() for c in rows[0]], rows[1:]


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    out = {}
    for h in headers:
        for fld in m.FIELDS[kind]:
            if h == fld or h in m.ALIASES.get(fld, []):
                out[h] = fld
    return out


# ------------------------------------------------------------------ sources and loads

@transaction.atomic
def create_source(user, *, name: str, kind: str, department: str, division: Division,
                  mapping: dict | None = None) -> m.Source:
    require(user, "matching.load")
    require_in_area(user, division)
    src = m.Source.objects.create(name=name, kind=kind, department=department, division=division,
                                  mapping=mapping or {}, created_by=user)
    audit.record(AuditLog.Action.CREATE, src, actor=user, after=audit.snapshot(src), note="matching.source")
    return src


def _parse_date(value: str) -> str:
    return nz.parse_date(value)


def _row_fields(kind: str, mapping: dict, headers: list[str], row: list[str]) -> dict:
    out = {}
    for i, h in enumerate(headers):
        fld = mapping.get(h)
        if fld and i < len(row):
            out[fld] = (row[i] or "").strip()
    return out


def _validate(kind: str, f: dict) -> str | None:
    for req in m.REQUIRED[kind]:
        if not f.get(req):
            return _("Missing %(field)s.") % {"field": m.FIELD_LABELS[req]}
    if f.get("id_number"):
        id18, _id17, ok = nz.id_forms(f["id_number"])
        if not id18:
            return _("The ID number has neither 15 nor 18 characters.")
    for dfield in ("death_date", "birth_date", "bill_date"):
        if f.get(dfield) and not _parse_date(f[dfield]):
            return _("%(field)s is not a date.") % {"field": m.FIELD_LABELS[dfield]}
    for nfield in ("value", "out_of_pocket", "monthly_income"):
        if f.get(nfield):
            try:
                Decimal(f[nfield])
            except InvalidOperation:
                return _("%(field)s is not a number.") % {"field": m.FIELD_LABELS[nfield]}
    return None


def _mask(id18: str) -> str:
    return f"{id18[:4]}{'*' * 10}{id18[-4:]}" if len(id18) == 18 else ""


def load_file(user, source: m.Source, data: bytes, filename: str, mapping: dict | None = None) -> m.Load:
    """A new versioned snapshot of ``source``. Bad rows come back with reasons; the rest are linked to residents
    and the integrity rules run. All-or-nothing: nothing is written if the file cannot be read."""
    require(user, "matching.load")
    require_in_area(user, source.division)
    headers, rows = read_table(data, filename)
    mapping = mapping or source.mapping or guess_mapping(source.kind, headers)
    missing = [f for f in m.REQUIRED[source.kind] if f not in mapping.values()]
    if missing:
        raise MatchingError(_("No column is mapped to: %(fields)s.") % {"fields": "、".join(str(m.FIELD_LABELS[f]) for f in missing)})
    with transaction.atomic():
        src = m.Source.objects.select_for_update().get(pk=source.pk)
        if src.mapping != mapping:
            src.mapping = mapping
            src.save(update_fields=["mapping"])
        version = (src.loads.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        load = m.Load.objects.create(source=src, version=version, file_name=filename[:200],
                                     sha256=hashlib.sha256(data).hexdigest(), rows=len(rows),
                                     division=src.division, loaded_by=user)
        rejects, records = [], []
        for n, row in enumerate(rows, start=2):
            f = _row_fields(src.kind, mapping, headers, row)
            reason = _validate(src.kind, f)
            if reason:
                id18 = nz.id_forms(f.get("id_number", ""))[0]
                rejects.append({"row": n, "reason": reason, "name": f.get("name", ""), "id": _mask(id18)})
                continue
            id18 = nz.id_forms(f.pop("id_number", ""))[0]
            rel = f.pop("relative_id_number", "")
            if rel:
                rel18 = nz.id_forms(rel)[0]
                f["relative_id_hash"] = pii.lookup_hash(rel18) if rel18 else ""
                f["relative_id_masked"] = _mask(rel18)
            for dfield in ("death_date", "birth_date", "bill_date"):
                if f.get(dfield):
                    f[dfield] = _parse_date(f[dfield])
            records.append(m.DeptRecord(load=load, kind=src.kind, row_no=n, name=f.pop("name", "")[:50],
                                        id_hash=pii.lookup_hash(id18) if id18 else "", id_masked=_mask(id18),
                                        data=f, division=src.division))
        m.DeptRecord.objects.bulk_create(records, batch_size=1000)
        load.accepted, load.rejects = len(records), rejects
        load.linked = link_load(load)
        load.save(update_fields=["accepted", "rejects", "linked"])
        audit.record(AuditLog.Action.IMPORT, load, actor=user, division_path=src.division.path,
                     after={"file": filename, "sha256": load.sha256, "rows": load.rows, "accepted": load.accepted,
                            "rejected": len(rejects), "linked": load.linked}, note=f"matching.load {src.name}")
        run_checks(user, load)
    return load


def link_load(load: m.Load) -> int:
    """Link the load's records to residents: exact ID number first, then the linkage model for the rest."""
    recs = list(load.records.all())
    by_hash = dict(Resident.objects.filter(id_number_hash__in=[r.id_hash for r in recs if r.id_hash])
                   .values_list("id_number_hash", "id"))
    rest = []
    for r in recs:
        rid = by_hash.get(r.id_hash)
        if rid:
            r.resident_id, r.link_probability, r.link_how = rid, 1.0, "id"
        else:
            rest.append(r)
    if rest:
        _link_by_model(rest, load.division)
    m.DeptRecord.objects.bulk_update(recs, ["resident", "link_probability", "link_how"], batch_size=1000)
    return sum(1 for r in recs if r.resident_id)


def _resident_record(r: Resident) -> dict:
    return {"record_id": f"r{r.pk}", "name": r.name, "id_number": pii.decrypt(r.id_number_enc),
            "birth_date": r.birth_date.isoformat() if r.birth_date else "", "sex": r.sex,
            "division_code": r.division.code, "address": r.address, "phone": r.phone}


def record_key(r: m.DeptRecord) -> str:
    if r.id_hash:
        return r.id_hash
    return hashlib.sha256(f"{r.name}|{r.data.get('birth_date', '')}".encode()).hexdigest()


def _link_by_model(rest: list[m.DeptRecord], division: Division) -> None:
    """Records without a known ID number: splink link to the residents of the same area. Pairs at or above
    model.ACCEPT link; pairs between REVIEW and ACCEPT go to the review queue unless a reviewer already
    answered for that pair (then the answer is applied)."""
    from carenet.matching.linkage import engine, model as lm

    residents = Resident.objects.filter(division__path__startswith=division.path).select_related("division")
    left = [{"record_id": f"d{r.pk}", "name": r.name, "birth_date": r.data.get("birth_date", ""),
             "division_code": r.data.get("division_code", ""), "address": r.data.get("address", ""), "phone": "",
             "sex": "", "id_number": ""} for r in rest]
    right = [_resident_record(r) for r in residents]
    if not left or not right:
        return
    res_division = {r.pk: r.division_id for r in residents}
    by_pk = {r.pk: r for r in rest}
    keys = {r.pk: record_key(r) for r in rest}
    decided = {(d.key, d.resident_id): d.same_person
               for d in m.LinkDecision.objects.filter(key__in=set(keys.values()))}
    best: dict[int, tuple[float, int]] = {}
    review = []
    for p in engine.link(left, right, threshold=lm.REVIEW):
        d, res = int(p.left_id[1:]), int(p.right_id[1:])
        answer = decided.get((keys[d], res))
        if answer is False:
            continue
        if p.probability >= lm.ACCEPT or answer is True:
            if d not in best or p.probability > best[d][0]:
                best[d] = (p.probability, res)
        else:
            review.append(m.ReviewPair(record_id=d, resident_id=res, probability=p.probability, key=keys[d],
                                       division_id=res_division[res]))  # scoped to the resident's area
    for d, (prob, res) in best.items():
        r = by_pk[d]
        r.resident_id, r.link_probability, r.link_how = res, prob, "model"
    m.ReviewPair.objects.bulk_create([rp for rp in review if rp.record_id not in best])


def decide_pair(user, pair: m.ReviewPair, *, same_person: bool) -> m.LinkDecision:
    """Answer an uncertain pair. The answer is remembered for the pair (never asked again) and audited; a match
    links the record and runs the integrity rules of its load again."""
    require(user, "matching.investigate")
    require_in_area(user, pair.division)
    with transaction.atomic():
        dec, created = m.LinkDecision.objects.get_or_create(
            key=pair.key, resident=pair.resident,
            defaults={"same_person": same_person, "decided_by": user, "division": pair.division})
        if not created:
            raise MatchingError(_("This pair has already been decided."))
        audit.record(AuditLog.Action.CREATE, dec, actor=user, division_path=pair.division.path,
                     after={"same_person": same_person, "record": pair.record_id, "resident": pair.resident_id},
                     note="matching.link_decision")
        m.ReviewPair.objects.filter(key=pair.key, resident=pair.resident).delete()
        if same_person:
            rec = pair.record
            rec.resident, rec.link_probability, rec.link_how = pair.resident, pair.probability, "review"
            rec.save(update_fields=["resident", "link_probability", "link_how"])
            m.ReviewPair.objects.filter(record=rec).delete()
            run_checks(user, rec.load)
    return dec


# ------------------------------------------------------------------ integrity checks

def _payments(ent: am.Entitlement) -> list[ei.Payment]:
    rows = (am.LedgerLine.objects.filter(entitlement=ent).values("period").annotate(s=Sum("amount"))
            .order_by("period"))
    return [ei.Payment(r["period"], r["s"]) for r in rows]


def _raise(finding: ei.Finding, *, resident: Resident, case: am.Case | None, division: Division,
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


def run_checks(user, load: m.Load) -> list[m.Finding]:
    out = []
    recs = load.records.filter(resident__isnull=False).select_related("resident")
    if load.source.kind == m.Kind.DEATHS:
        for r in recs:
            death = dt.date.fromisoformat(r.data["death_date"])
            for ent in am.Entitlement.objects.filter(payee=r.resident).select_related("case", "division"):
                f = ei.paid_after_death(death, _payments(ent), load.source.name)
                if f:
                    obj = _raise(f, resident=r.resident, case=ent.case, division=ent.division, load=load)
                    out += [obj] if obj else []
    elif load.source.kind == m.Kind.STAFF:
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
                    obj = _raise(f, resident=res, case=ent.case, division=ent.division, load=load)
                    out += [obj] if obj else []
    return out


# ------------------------------------------------------------------ findings: investigate, decide

def _locked(finding: m.Finding) -> m.Finding:
    return m.Finding.objects.select_for_update().get(pk=finding.pk)


def investigate(user, finding: m.Finding, *, notes: str) -> m.Finding:
    require(user, "matching.investigate")
    require_in_area(user, finding.division)
    if not notes.strip():
        raise MatchingError(_("Write what the investigation found."))
    with transaction.atomic():
        f = _locked(finding)
        if f.status in (m.Finding.Status.CONFIRMED, m.Finding.Status.DISMISSED):
            raise MatchingError(_("This finding has already been decided."))
        before = audit.snapshot(f)
        f.status, f.investigation, f.investigated_by = m.Finding.Status.INVESTIGATING, notes.strip(), user
        f.save()
        audit.record(AuditLog.Action.UPDATE, f, actor=user, before=before, after=audit.snapshot(f),
                     note="matching.finding investigate")
    return f


def decide(user, finding: m.Finding, *, confirm: bool, reason: str) -> m.Finding:
    """Confirm or dismiss, with a reason. The decider is not the investigator. A confirmed finding reopens the
    case for re-check (where the stop decision is taken) and writes the recovery lines into the ledger."""
    require(user, "matching.decide")
    require_in_area(user, finding.division)
    if not reason.strip():
        raise MatchingError(_("A reason is required."))
    with transaction.atomic():
        f = _locked(finding)
        if f.status in (m.Finding.Status.CONFIRMED, m.Finding.Status.DISMISSED):
            raise MatchingError(_("This finding has already been decided."))
        if f.investigated_by_id == user.pk:
            raise MatchingError(_("The person who investigated cannot also decide."))
        before = audit.snapshot(f)
        f.status = m.Finding.Status.CONFIRMED if confirm else m.Finding.Status.DISMISSED
        f.reason, f.decided_by, f.decided_at = reason.strip(), user, timezone.now()
        f.save()
        audit.record(AuditLog.Action.UPDATE, f, actor=user, before=before, after=audit.snapshot(f),
                     note=f"matching.finding {'confirm' if confirm else 'dismiss'}")
        if confirm and f.case_id:
            label = ei.RULE_LABELS_ZH.get(f.rule, f.rule)
            case = am.Case.objects.get(pk=f.case_id)
            assistance.open_recheck_on_finding(user, case, reason=f"民生监察：{label}。{f.summary}。请作出停发或调整决定。")
            if f.amount > 0 and f.months:
                per = _per_month(f)
                assistance.record_recovery(user, case, periods=per, note=f"民生监察追回：{label}")
                rec = m.Recovery.objects.create(finding=f, case=case, division=f.division, amount=f.amount,
                                                created_by=user)
                audit.record(AuditLog.Action.CREATE, rec, actor=user, after=audit.snapshot(rec),
                             note="matching.recovery")
    return f


def _per_month(f: m.Finding) -> list[tuple[dt.date, Decimal]]:
    ent = am.Entitlement.objects.get(case_id=f.case_id)
    paid = {p.period: p.amount for p in _payments(ent)}
    out = []
    for ym in f.months:
        period = dt.date(int(ym[:4]), int(ym[5:7]), 1)
        if paid.get(period, 0) > 0:
            out.append((period, paid[period]))
    return out


def record_repayment(user, recovery: m.Recovery, *, amount, paid_on: dt.date, note: str = "") -> m.Repayment:
    require(user, "matching.investigate")
    require_in_area(user, recovery.division)
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise MatchingError(_("The amount is not a number.")) from None
    with transaction.atomic():
        rec = m.Recovery.objects.select_for_update().get(pk=recovery.pk)
        if amount <= 0 or amount > rec.amount - rec.repaid:
            raise MatchingError(_("The amount must be positive and at most what is outstanding."))
        rp = m.Repayment.objects.create(recovery=rec, amount=amount, paid_on=paid_on, note=note[:200],
                                        recorded_by=user)
        rec.repaid += amount
        rec.save(update_fields=["repaid"])
        audit.record(AuditLog.Action.CREATE, rp, actor=user, division_path=rec.division.path,
                     after={"amount": str(amount), "paid_on": paid_on.isoformat()}, note="matching.repayment")
    return rp

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


def load_file(user, source: m.Source, data: bytes, filename: str, mapping: dict | None = None) -> m.Load:
    """A new versioned snapshot of ``source``, through the shared import pipeline (core.imports). Bad rows come
    back with reasons; the rest are linked to residents and the integrity rules run. All-or-nothing.

    ``mapping`` (header in the file -> field) is saved for the source first, as the mapping screen does.
    Raises MappingNeeded when a required column is not recognised, MatchingError for any other refusal."""
    from carenet.core import imports
    from carenet.core.tabular import FileError, MappingNeeded, layout, read_file
    from carenet.matching.importers import DeptImporter, sha256

    require(user, "matching.load")
    require_in_area(user, source.division)
    importer = DeptImporter(source, sha256=sha256(data))
    try:
        if mapping:
            for sheet in read_file(data, filename):
                lay = layout(sheet, importer.schema)
                if lay:
                    imports.save_mapping(importer, user, lay, {h: mapping.get(h, "") for h in lay.headers},
                                         source_name=source.name)
        run = imports.import_file(importer, data, filename, user)
    except MappingNeeded:
        raise
    except FileError as exc:
        raise MatchingError(str(exc)) from None
    if run.status == run.Status.FAILED:
        raise MatchingError(run.message)
    if importer.load is None:
        reasons = "；".join(f"第{r.number}行：{'；'.join(r.errors)}" for r in importer.rows if not r.ok)
        raise MatchingError(_("No row of the file can be loaded: %(reasons)s") % {"reasons": reasons[:500]})
    return importer.load


def write_load(user, source: m.Source, *, filename: str, sha256: str, total: int, records: list[dict],
               rejects: list[dict], run=None) -> m.Load:
    """The load and its records (called by the importer inside the pipeline's transaction), then linking and the
    integrity rules. Provenance: version, file name and hash, rows, who and when; audited as an import."""
    require(user, "matching.load")
    require_in_area(user, source.division)
    src = m.Source.objects.select_for_update().get(pk=source.pk)
    version = (src.loads.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    load = m.Load.objects.create(source=src, version=version, file_name=filename[:200], sha256=sha256, rows=total,
                                 division=src.division, loaded_by=user, import_run=run)
    m.DeptRecord.objects.bulk_create([m.DeptRecord(load=load, kind=src.kind, division=src.division, **r)
                                      for r in records], batch_size=1000)
    if run is not None and run.sheets:
        mapping = run.sheets[0].get("mapping") or {}
        if mapping and src.mapping != mapping:
            src.mapping = mapping
            src.save(update_fields=["mapping"])
    load.accepted, load.rejects = len(records), rejects
    load.linked = link_load(load)
    load.save(update_fields=["accepted", "rejects", "linked"])
    audit.record(AuditLog.Action.IMPORT, load, actor=user, division_path=src.division.path,
                 after={"file": filename, "sha256": load.sha256, "rows": load.rows, "accepted": load.accepted,
                        "rejected": len(rejects), "linked": load.linked}, note=f"matching.load {src.name}")
    from carenet.matching import checks
    checks.run_checks(user, load)
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
            from carenet.matching import checks
            checks.run_checks(user, rec.load)
    return dec


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
        if not confirm and f.case_id:  # a hold put on while investigating ends with the dismissal
            assistance.release_holds(user, am.Case.objects.get(pk=f.case_id), source=hold_source(f),
                                     reason=f"民生监察核查不属实：{f.reason}")
        if confirm and f.case_id:
            label = ei.RULE_LABELS_ZH.get(f.rule, f.rule)
            case = am.Case.objects.get(pk=f.case_id)
            # the payment is held (the next payroll skips it, with the reason) until the stop decision
            assistance.hold_payment(user, case, source=hold_source(f),
                                    reason=f"民生监察已确认：{label}，待作出停发决定")
            assistance.open_recheck_on_finding(user, case, reason=f"民生监察：{label}。{f.summary}。请作出停发或调整决定。")
            if f.amount > 0 and f.months:
                per = _per_month(f)
                assistance.record_recovery(user, case, periods=per, note=f"民生监察追回：{label}")
                rec = m.Recovery.objects.create(finding=f, case=case, division=f.division, amount=f.amount,
                                                created_by=user)
                audit.record(AuditLog.Action.CREATE, rec, actor=user, after=audit.snapshot(rec),
                             note="matching.recovery")
    return f


def holds_of(f: m.Finding) -> list:
    return [h for h in (assistance.active_holds(am.Case.objects.get(pk=f.case_id)) if f.case_id else [])
            if h.source == hold_source(f)]


def hold_source(f: m.Finding) -> str:
    return f"matching.finding:{f.pk}"


def hold_while_investigating(user, finding: m.Finding, *, reason: str) -> m.Finding:
    """An approver may hold the payment before deciding (e.g. a death certificate is on file); dismissing the
    finding releases it, confirming keeps it until the stop decision."""
    require(user, "matching.decide")
    require_in_area(user, finding.division)
    if not reason.strip():
        raise MatchingError(_("A reason is required."))
    if finding.status not in (m.Finding.Status.OPEN, m.Finding.Status.INVESTIGATING) or not finding.case_id:
        raise MatchingError(_("Only an open finding about a case can hold its payment."))
    with transaction.atomic():
        hold = assistance.hold_payment(user, am.Case.objects.get(pk=finding.case_id), source=hold_source(finding),
                                       reason=f"民生监察核查中：{reason.strip()}")
        if hold is None:
            raise MatchingError(_("The case has no running payment to hold."))
    return finding


def _per_month(f: m.Finding) -> list[tuple[dt.date, Decimal]]:
    ent = am.Entitlement.objects.get(case_id=f.case_id)
    from carenet.matching.checks import payments
    paid = {p.period: p.amount for p in payments(ent)}
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

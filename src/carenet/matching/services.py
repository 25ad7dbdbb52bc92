"""Writes for cross-department checks: sources and loads, linking to residents, findings, recoveries.

Acts on assistance only through assistance.services (re-check on a finding, recovery lines).
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import models as am
from carenet.assistance import services as assistance
from carenet.core import audit, pii
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.core import imports
from carenet.core.tabular import FileError, MappingNeeded, layout, read_file
from carenet.matching import checks
from carenet.matching import models as m
from carenet.matching.checks import payments
from carenet.matching.engine import integrity as ei
from carenet.matching.errors import MatchingError  # callers catch services.MatchingError
from carenet.matching.importers import DeptImporter, sha256

log = logging.getLogger(__name__)




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


def load_staged(user, source: m.Source, staged, *, mapping: dict) -> m.Load:
    """The mapping screen's confirm: save the mapping for the source, load the staged upload, then drop it."""
    from carenet.core.models import ImportUpload

    load = load_file(user, source, pii.decrypt_bytes(staged.data_enc), staged.filename, mapping=mapping)
    ImportUpload.objects.filter(pk=staged.pk).delete()
    return load


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

"""Writing a department load and linking its records to residents: exact ID number first, then the linkage
model against the area's residents (>= ACCEPT links; REVIEW..ACCEPT goes to the review queue, answers
remembered per pair). Called by the importer (importers.py) inside the import pipeline's transaction."""
from __future__ import annotations

import hashlib

from carenet.core import audit, pii
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.matching import checks
from carenet.matching import models as m
from carenet.people.models import Resident


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



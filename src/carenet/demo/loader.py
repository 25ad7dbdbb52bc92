"""Writes a synthetic district (carenet.demo.synth) into the database in bulk."""
from __future__ import annotations

import time

from django.db import transaction

from carenet.core import idcard, pii
from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.demo.synth import District
from carenet.people.models import (ElderCategory, ElderProfile, EmergencyContact, HealthArchive, Household,
                                   Resident)

DEMO_PASSWORD = "carenet-demo-2026"
DEMO_USERNAMES = ["admin", "approver", "reviewer", "worker", "worker2", "operator", "helper", "supervisor", "evaluator"]
BATCH = 2000


def load_divisions(district: District) -> dict[str, Division]:
    by_code: dict[str, Division] = {}
    for level in (1, 2, 3, 4):  # one level at a time, so every parent has its id before its children
        rows = []
        for rec in district.divisions:
            if rec.level != level:
                continue
            parent = by_code.get(rec.parent) if rec.parent else None
            rows.append(Division(code=rec.code, name=rec.name, level=rec.level, parent=parent,
                                 path=(parent.path + "/" if parent else "") + rec.code))
        Division.objects.bulk_create(rows, batch_size=BATCH)
        by_code |= {d.code: d for d in Division.objects.filter(level=level)}
    return by_code


def load_people(district: District, elders: int, divisions: dict[str, Division], progress=None) -> dict:
    counts = {"households": 0, "residents": 0, "elders": 0}
    batch = []
    started = time.monotonic()
    for hh in district.households(elders):
        batch.append(hh)
        if len(batch) >= BATCH // 2:
            _write_batch(batch, divisions, counts)
            batch = []
            if progress:
                progress(counts["elders"], elders, time.monotonic() - started)
    if batch:
        _write_batch(batch, divisions, counts)
    if progress:
        progress(counts["elders"], elders, time.monotonic() - started)
    return counts


@transaction.atomic
def _write_batch(batch, divisions, counts) -> None:
    households = [Household(division=divisions[h.division], address=h.address, hukou=h.hukou) for h in batch]
    Household.objects.bulk_create(households)
    residents, people = [], []
    for h, hh in zip(batch, households):
        for p in h.members:
            residents.append(Resident(
                name=p.name, sex=p.sex, birth_date=p.birth, id_number_enc=pii.encrypt(p.id_number),
                id_number_hash=pii.lookup_hash(p.id_number), id_masked=idcard.mask(p.id_number), phone=p.phone,
                address=hh.address, lat=round(p.lat, 6), lon=round(p.lon, 6), division=divisions[p.division],
                household=hh, relation=p.relation,
            ))
            people.append(p)
    Resident.objects.bulk_create(residents)
    elders = [(ElderProfile(resident=r, living=p.living, care_level=p.care_level, dementia=p.dementia,
                            key_elder=p.living == "alone" or p.care_level in ("moderate", "severe")), p)
              for r, p in zip(residents, people) if p.is_elder]
    ElderProfile.objects.bulk_create([e for e, _ in elders])
    ElderCategory.objects.bulk_create([ElderCategory(elder=e, code=c) for e, p in elders for c in p.categories])
    HealthArchive.objects.bulk_create([HealthArchive(elder=e, **p.health) for e, p in elders])
    EmergencyContact.objects.bulk_create([EmergencyContact(elder=e, **c) for e, p in elders for c in p.contacts])
    counts["households"] += len(households)
    counts["residents"] += len(residents)
    counts["elders"] += len(elders)


def create_demo_users(divisions: dict[str, Division]) -> list[tuple[str, str, str]]:
    """One login per role. Returns (username, role, division name) rows for the login page."""
    district = next(d for d in divisions.values() if d.level == Division.Level.DISTRICT)
    streets = sorted((d for d in divisions.values() if d.level == Division.Level.STREET), key=lambda d: d.code)
    street = streets[0]
    communities = sorted((d for d in divisions.values() if d.parent_id == street.pk), key=lambda d: d.code)
    spec = [  # DEMO_USERNAMES below lists these names for the login page
        ("admin", Role.DISTRICT_ADMIN, district, "区管理员"),
        ("approver", Role.APPROVER, district, "区审批员"),
        ("reviewer", Role.REVIEWER, street, "街道审核员"),
        ("worker", Role.WORKER, communities[0], "社区专干"),
        ("worker2", Role.WORKER, communities[1], "社区专干"),
        ("operator", Role.OPERATOR, district, "呼叫中心坐席"),
        ("helper", Role.HELPER, street, "助老员"),
        ("supervisor", Role.SUPERVISOR, district, "监管员"),
        ("evaluator", Role.EVALUATOR, district, "第三方评估员"),
    ]
    rows = []
    for username, role, division, title in spec:
        user, created = User.objects.get_or_create(username=username, defaults={"role": role, "division": division})
        user.role, user.division, user.first_name = role, division, title
        user.set_password(DEMO_PASSWORD)
        user.save()
        rows.append((username, role, division.name))
    return rows

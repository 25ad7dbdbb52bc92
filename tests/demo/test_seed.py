import pytest
from django.core.management import call_command

from carenet.core import idcard
from carenet.core.models import Division, User
from carenet.demo.synth import District
from carenet.people.models import ElderProfile, Resident


def _people(seed, n):
    return [(p.name, p.id_number) for hh in District(seed=seed).households(n) for p in hh.members]


def test_same_seed_same_district_and_different_seed_differs():
    assert _people(3, 200) == _people(3, 200)
    assert _people(3, 200) != _people(4, 200)


def test_tree_shape_and_codes():
    d = District(seed=1)
    levels = [x.level for x in d.divisions]
    assert levels.count(1) == 1 and levels.count(2) == 10
    assert 130 <= levels.count(3) <= 170
    assert all(len(x.code) == 12 for x in d.divisions if x.level < 4)
    assert all(x.code.startswith(x.parent[:9 if x.level == 3 else 12]) for x in d.divisions if x.level >= 3)


def test_generated_people_have_valid_ids_matching_sex_and_birth():
    people = [p for hh in District(seed=5).households(500) for p in hh.members]
    elders = [p for p in people if p.is_elder]
    assert len(elders) >= 500
    for p in people:
        parsed = idcard.parse(p.id_number)
        assert parsed.sex == p.sex and parsed.birth_date == p.birth
    assert len({p.id_number for p in people}) == len(people)
    assert all(p.contacts for p in elders)


@pytest.mark.django_db
def test_seed_command_loads_the_district_and_logins():
    call_command("seed", elders=150, seed=2)
    assert Division.objects.filter(level=Division.Level.STREET).count() == 10
    assert ElderProfile.objects.count() == 150
    assert Resident.objects.count() > 150
    assert set(User.objects.values_list("role", flat=True)) >= {"district_admin", "approver", "reviewer", "worker",
                                                                   "operator", "helper", "supervisor"}
    sample = Resident.objects.first()
    assert idcard.parse(sample.id_number).birth_date == sample.birth_date


@pytest.mark.django_db
def test_seed_refuses_to_load_twice():
    from django.core.management.base import CommandError

    call_command("seed", elders=10, no_users=True)
    with pytest.raises(CommandError):
        call_command("seed", elders=10, no_users=True)
    call_command("seed", elders=10, no_users=True, if_empty=True)  # a no-op
    assert ElderProfile.objects.count() == 10

"""The splink model on a handful of records: typo IDs and sound-alike names link, households and twins do not."""
import pytest

from carenet.matching.linkage import engine, model as M

BASE = {"sex": "", "division_code": "340899001006", "address": "解放路1号2栋301室", "phone": ""}


def rec(rid, name, id_number, birth="", **kw):
    return {"record_id": rid, "name": name, "id_number": id_number, "birth_date": birth, **BASE, **kw}


@pytest.fixture(scope="module")
def pairs():
    records = [
        rec("a1", "张丽华", "340899194403061695", "1944-03-06", phone="13912345678"),
        rec("a2", "張利華", "340899440306169"),                        # traditional, homophone, 15-digit ID
        rec("b1", "陈建忠", "340899195001021234"[:17] + "0"),           # wrong check character below
        rec("b2", "陈建中", "34089919500102123X"),
        rec("t1", "王国强", "340899198001010011", "1980-01-01", phone="13800000000"),  # twins: same household
        rec("t2", "王国平", "340899198001010038", "1980-01-01", phone="13800000000"),
        rec("x1", "刘芳", "340899196507070024", "1965-07-07", address="人民路5号", division_code="340899002001"),
    ]
    got = {tuple(sorted((p.left_id, p.right_id))): p.probability for p in engine.dedupe(records, threshold=0.01)}
    return got


def test_typo_ids_and_sound_alike_names_link(pairs):
    assert pairs.get(("a1", "a2"), 0) >= M.ACCEPT
    assert pairs.get(("b1", "b2"), 0) >= M.ACCEPT


def test_twins_in_one_household_are_two_people(pairs):
    assert pairs.get(("t1", "t2"), 0) < M.REVIEW


def test_unrelated_person_is_not_linked(pairs):
    assert all(p < M.REVIEW for k, p in pairs.items() if "x1" in k)


def test_incremental_load_keeps_person_ids_and_joins_known_persons():
    idx = engine.PersonIndex()
    first = idx.build([rec("a1", "张丽华", "340899194403061695", "1944-03-06"),
                       rec("c1", "赵敏", "340899197002020047", "1970-02-02")])
    assert len(set(first.values())) == 2
    res = idx.add([rec("a9", "張麗華", "340899440306169"), rec("n1", "孙强", "340899199909090013", "1999-09-09")])
    assert res.assigned["a9"] == first["a1"] and res.new_persons == 1
    assert res.assigned["n1"] not in first.values()
    assert idx.person_of["c1"] == first["c1"]


def test_explained_weights_cover_every_level():
    rows = M.explain_model()
    assert {r["comparison"] for r in rows} == {"id_number", "name", "birth_date", "sex", "place", "phone"}
    assert all(r["weight"] is not None for r in rows)
    same_id = next(r for r in rows if r["level"] == "same ID number")
    assert same_id["weight"] > 10

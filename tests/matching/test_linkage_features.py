"""Chinese-aware normalisation and comparisons of the linkage engine (small, no Django)."""
import pytest

from carenet.matching.linkage import normalize as nz

def test_legacy_15_digit_id_is_converted_to_18_with_its_check_character():
    id18, id17, ok = nz.id_forms("340899440306169")
    assert (id18, id17, ok) == ("340899194403061695", "34089919440306169", True)


def test_wrong_check_character_keeps_the_first_17_digits():
    id18, id17, ok = nz.id_forms("34089919440306169X")
    assert id17 == "34089919440306169" and ok is False


def test_full_width_and_lower_case_x_are_normalised():
    id18, id17, _ok = nz.id_forms(" ３４０８９９１９８１０２０２０５２x ")
    assert id17 == "34089919810202052" and id18 == "34089919810202052X"


def test_other_shapes_give_nothing():
    assert nz.id_forms("12345") == ("", "", False)


@pytest.mark.parametrize("a,b,level", [
    ("張麗華", "张丽华", "name_s"),     # traditional vs simplified
    ("张丽华", "张利华", "name_py"),    # homophone
    ("陈建忠", "陈建中", "name_py"),
    ("刘宁", "刘玲", "name_fz"),        # near-homophone: -ng/-n and n/l
    ("张 丽华", "张丽华", "name_s"),    # a stray space
])
def test_name_forms(a, b, level):
    fa, fb = nz.name_forms(a), nz.name_forms(b)
    idx = {"name_s": 0, "name_py": 1, "name_fz": 2}[level]
    assert fa[idx] == fb[idx]
    if idx:
        assert fa[idx - 1] != fb[idx - 1]


def test_different_names_stay_different():
    assert nz.name_forms("王伟")[2] != nz.name_forms("王芳")[2]


def test_birth_date_falls_back_to_the_id_number_and_sex_too():
    f = nz.features({"record_id": 1, "name": "李四", "id_number": "340899194403061695", "birth_date": "", "sex": ""})
    assert f["dob"] == "1944-03-06" and f["dob_id"] == "1944-03-06" and f["sex"] == "M"
    g = nz.features({"record_id": 2, "name": "李四", "id_number": "", "birth_date": "1944年3月6日", "sex": "男"})
    assert g["dob"] == "1944-03-06" and g["sex"] == "M"


def test_phone_and_division():
    f = nz.features({"record_id": 1, "name": "x", "phone": "+86 139-1234-5678", "division_code": "340899001006"})
    assert f["phone"] == "13912345678" and f["div9"] == "340899001" and f["div12"] == "340899001006"

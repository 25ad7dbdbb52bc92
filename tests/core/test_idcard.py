import datetime as dt

import pytest

from carenet.core import idcard

VALID = "11010519491231002X"  # the GB 11643 standard's own example


def test_standard_example_is_valid_and_decodes_birth_and_sex():
    parsed = idcard.parse(VALID)
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.region == "110105"


def test_check_character_matches_the_standard_algorithm():
    assert idcard.check_char("11010519491231002") == "X"
    made = idcard.make("340802", dt.date(1940, 5, 6), 123)
    assert idcard.parse(made).sex == "M"


@pytest.mark.parametrize("raw,code", [
    ("", "id_missing"),
    ("1101051949123100", "id_length"),
    ("11010519491231002A", "id_chars"),
    ("110105194902300021", "id_birth"),
    ("110105194912310021", "id_check"),
])
def test_each_kind_of_bad_number_has_its_own_reason(raw, code):
    with pytest.raises(idcard.IdNumberError) as err:
        idcard.parse(raw)
    assert err.value.code == code
    assert err.value.message


def test_bad_check_character_message_names_the_expected_character():
    with pytest.raises(idcard.IdNumberError) as err:
        idcard.parse("110105194912310021")
    assert "X" in err.value.message


def test_lowercase_x_and_spaces_are_normalised():
    assert idcard.parse(" 11010519491231002x ").number == VALID


def test_cross_check_reports_sex_and_birth_mismatch():
    parsed = idcard.parse(VALID)
    codes = {p.code for p in idcard.cross_check(parsed, "M", dt.date(1950, 1, 1))}
    assert codes == {"id_sex", "id_birth_mismatch"}
    assert idcard.cross_check(parsed, "F", dt.date(1949, 12, 31)) == []


def test_mask_keeps_four_and_four():
    assert idcard.mask(VALID) == "1101**********002X"


def test_messages_are_chinese_for_staff_and_english_on_request():
    import pytest as _pytest

    from carenet.core import idcard as _idcard

    good = _idcard.make("340899", __import__("datetime").date(1950, 3, 4), 123)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with _pytest.raises(_idcard.IdNumberError) as info:
        _idcard.parse(bad)
    assert info.value.text("zh-hans") == info.value.message and "(" not in info.value.message
    assert "校验码" in info.value.message and "check character" not in info.value.message
    assert info.value.text("en").startswith("Bad check character")

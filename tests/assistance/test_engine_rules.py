"""Dated rules: division overrides, effective dates, program fallback, provenance."""

from datetime import date
from decimal import Decimal

import pytest

from carenet.assistance.engine.rules import (
    ANY_PROGRAM, DIBAO_RURAL, DIBAO_URBAN, RuleNotFoundError, RuleSet, Standard, default_standards, resolve,
)

PROVINCE, CITY, DISTRICT, STREET, OTHER_STREET = "330000", "330100", "330106", "330106001", "330106002"
PATH = (PROVINCE, CITY, DISTRICT, STREET)
OTHER_PATH = (PROVINCE, CITY, DISTRICT, OTHER_STREET)


def rows():
    return [
        Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", Decimal("780"), date(2024, 1, 1)),
        Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", Decimal("820"), date(2025, 7, 1)),
        Standard(STREET, DIBAO_URBAN, "dibao_monthly", Decimal("850"), date(2025, 1, 1)),
        Standard(PROVINCE, ANY_PROGRAM, "deadline_review_days", 15, date(2020, 11, 1)),
        Standard(DISTRICT, DIBAO_RURAL, "deadline_review_days", 10, date(2020, 11, 1)),
    ]


def test_district_value_applies_to_streets_without_override():
    r = resolve(rows(), "dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2024, 6, 1))
    assert r.value == Decimal("780")
    assert r.division_code == DISTRICT
    assert r.effective_from == date(2024, 1, 1)


def test_street_overrides_district_from_its_own_date_only():
    rules = RuleSet(rows())
    # before the street row exists, the district value applies to the street too
    assert rules.resolve("dibao_monthly", DIBAO_URBAN, PATH, date(2024, 12, 31)).value == Decimal("780")
    r = rules.resolve("dibao_monthly", DIBAO_URBAN, PATH, date(2025, 1, 1))
    assert (r.value, r.division_code) == (Decimal("850"), STREET)
    # a later district change does not beat the street override
    assert rules.resolve("dibao_monthly", DIBAO_URBAN, PATH, date(2025, 8, 1)).value == Decimal("850")
    assert rules.resolve("dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2025, 8, 1)).value == Decimal("820")


def test_latest_effective_date_not_after_on_date_wins():
    rules = RuleSet(rows())
    assert rules.value("dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2025, 6, 30)) == Decimal("780")
    assert rules.value("dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2025, 7, 1)) == Decimal("820")


def test_future_row_is_invisible_before_its_date():
    rules = RuleSet(rows()).with_rows(Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", Decimal("900"), date(2027, 1, 1)))
    assert rules.value("dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2026, 12, 31)) == Decimal("820")
    assert rules.value("dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2027, 1, 1)) == Decimal("900")


def test_program_specific_row_beats_generic_at_same_division_and_generic_is_fallback():
    rules = RuleSet(rows())
    assert rules.value("deadline_review_days", DIBAO_RURAL, PATH, date(2025, 1, 1)) == 10
    r = rules.resolve("deadline_review_days", DIBAO_URBAN, PATH, date(2025, 1, 1))
    assert (r.value, r.division_code, r.standard.program) == (15, PROVINCE, ANY_PROGRAM)


def test_not_found_before_first_row_and_for_unknown_key():
    rules = RuleSet(rows())
    with pytest.raises(RuleNotFoundError):
        rules.resolve("dibao_monthly", DIBAO_URBAN, PATH, date(2023, 12, 31))
    with pytest.raises(RuleNotFoundError):
        rules.resolve("no_such_key", DIBAO_URBAN, PATH, date(2025, 1, 1))
    assert rules.value("no_such_key", DIBAO_URBAN, PATH, date(2025, 1, 1), default=None) is None


def test_duplicate_dates_for_same_row_key_are_refused():
    with pytest.raises(ValueError):
        RuleSet([Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", Decimal(1), date(2024, 1, 1)),
                 Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", Decimal(2), date(2024, 1, 1))])


def test_provenance_names_division_date_and_source():
    rules = RuleSet(default_standards(PROVINCE, date(2020, 11, 1)))
    p = rules.resolve("marginal_multiple", "marginal", PATH, date(2025, 1, 1)).provenance
    assert p["division"] == PROVINCE and p["effective_from"] == "2020-11-01"
    assert "第十三条" in p["source"]


def test_change_dates_lists_only_real_changes_in_window():
    rules = RuleSet(rows())
    assert rules.change_dates("dibao_monthly", DIBAO_URBAN, OTHER_PATH, date(2024, 1, 1), date(2026, 1, 1)) == [date(2025, 7, 1)]
    # for the street, the district change of 2025-07 is hidden by the override
    assert rules.change_dates("dibao_monthly", DIBAO_URBAN, PATH, date(2024, 1, 1), date(2026, 1, 1)) == [date(2025, 1, 1)]


def test_defaults_cover_the_statutory_numbers():
    rules = RuleSet(default_standards(PROVINCE))
    d = date(2025, 1, 1)
    assert rules.value("marginal_multiple", "marginal", PATH, d) == Decimal("1.5")
    assert rules.value("temp_aid_cap_multiple", "temp_aid", PATH, d) == 6
    assert rules.value("temp_aid_special_cap_multiple", "temp_aid", PATH, d) == 12
    assert rules.value("warm_fund_max", "warm_fund", PATH, d) == Decimal("5000")
    assert [rules.value(k, DIBAO_URBAN, PATH, d) for k in
            ("deadline_review_days", "deadline_notice_days", "deadline_approval_days")] == [15, 7, 5]


def test_every_default_key_round_trips_through_json():
    import json

    from carenet.assistance.engine.rules import KEY_TYPES, decode_value, encode_value
    for s in default_standards(PROVINCE):
        assert s.key in KEY_TYPES
        data = json.loads(json.dumps(encode_value(s.key, s.value)))
        assert decode_value(s.key, data) == s.value, s.key
    with pytest.raises(TypeError):
        decode_value("dibao_monthly", 780.5)
    with pytest.raises(KeyError):
        encode_value("nope", 1)


def test_engine_package_never_imports_django():
    import ast
    import pathlib

    import carenet.assistance.engine as pkg
    for path in pathlib.Path(pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "django" or n.startswith("django.") for n in names), path.name

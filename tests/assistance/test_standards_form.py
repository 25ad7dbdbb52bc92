"""#18: standards get a real form (labelled inputs with units, row editors) and the table shows values in words."""
from decimal import Decimal

import pytest
from django.urls import reverse

from carenet.assistance import models as m
from carenet.assistance import services
from carenet.assistance.engine import rules as erules
from carenet.core.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(area, client):
    services.seed_default_standards(area.district)
    user = UserFactory(username="approver_std", role=Role.APPROVER, division=area.district)
    client.force_login(user)
    return user


def _post(client, area, key, **values):
    data = {"division": area.street1.pk, "program": "*", "key": key, "effective_from": "2031-01-01",
            "source": "区民政局2030年第5号文件第二条"}
    data.update(values)
    return client.post(reverse("assistance:standards"), data)


def test_values_read_as_words():
    tiers = ((80, 89, Decimal("50")), (90, 99, Decimal("100.00")), (100, None, Decimal("300.00")))
    assert erules.describe_value("elderly_allowance_tiers", tiers) == (
        "80–89岁 50.00 元/月；90–99岁 100.00 元/月；100岁及以上 300.00 元/月")
    assert erules.describe_value("dibao_monthly", Decimal("1050")) == "1050.00 元/人·月"
    assert erules.describe_value("marginal_multiple", Decimal("1.50")) == "1.5 倍"
    assert erules.describe_value("min_wage_monthly", None) == "不设上限"
    assert erules.describe_value("approval_delegated_to_township", False) == "否"
    assert erules.describe_value("notice_day_unit", "working") == "工作日"
    assert erules.describe_value("rigid_expense_deductible", ("medical", "education")) == "医疗、教育"
    assert erules.describe_value("recheck_months", (("stable", 6),)) == "收入基本稳定 6 个月"


def test_every_default_source_is_plain_chinese():
    for row in erules.default_standards("330000"):
        assert not any("a" <= ch.lower() <= "z" for ch in row.source), row.source


def test_page_shows_words_not_json_and_a_labelled_input_with_its_unit(area, client, approver):
    page = client.get(reverse("assistance:standards") + "?key=dibao_monthly").content.decode()
    assert "80–89岁 50.00 元/月" in page and '[[80' not in page and "None" not in page
    assert 'type="number"' in page and "元/人·月</span>" in page
    page = client.get(reverse("assistance:standards") + "?key=income_excluded_types").content.decode()
    assert 'type="checkbox"' in page and "优待抚恤金" in page


def test_tier_rows_are_saved_as_tiers(area, client, approver):
    r = _post(client, area, "elderly_allowance_tiers", tier_0_from=80, tier_0_to=89, tier_0_amount="60",
              tier_1_from=90, tier_1_to="", tier_1_amount="120.50")
    assert r.status_code == 302
    row = m.Standard.objects.get(division=area.street1, key="elderly_allowance_tiers")
    assert row.value == [[80, 89, "60.00"], [90, None, "120.50"]]


def test_overlapping_tiers_are_refused_in_chinese(area, client, approver):
    r = _post(client, area, "elderly_allowance_tiers", tier_0_from=80, tier_0_to=95, tier_0_amount="60",
              tier_1_from=90, tier_1_amount="100")
    assert r.status_code == 200 and "不重叠" in r.content.decode()
    assert not m.Standard.objects.filter(division=area.street1).exists()


def test_pairs_checkbox_lists_selects_and_booleans(area, client, approver):
    assert _post(client, area, "tekun_care_monthly", pair_self_care="0", pair_partial="350",
                 pair_full="700").status_code == 302
    assert _post(client, area, "rigid_expense_deductible", value=["medical"]).status_code == 302
    assert _post(client, area, "notice_day_unit", value="calendar").status_code == 302
    assert _post(client, area, "approval_delegated_to_township", value="on").status_code == 302
    assert _post(client, area, "min_wage_monthly", value="").status_code == 302
    got = {s.key: s.value for s in m.Standard.objects.filter(division=area.street1)}
    assert got == {"tekun_care_monthly": [["self_care", "0.00"], ["partial", "350.00"], ["full", "700.00"]],
                   "rigid_expense_deductible": ["medical"], "notice_day_unit": "calendar",
                   "approval_delegated_to_township": True, "min_wage_monthly": None}
    r = _post(client, area, "notice_day_unit", value="weekly")
    assert r.status_code == 200 and m.Standard.objects.filter(key="notice_day_unit", division=area.street1).count() == 1


def test_home_care_keys_read_as_words():
    assert erules.describe_value("homecare_budget_monthly", (("tekun", Decimal("200")),)) == "特困 200.00 元/人·月"
    assert erules.describe_value("homecare_over_budget", "self_pay") == "经同意自费"

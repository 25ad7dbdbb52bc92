"""Public notice rows: masked names, minors never named."""

from datetime import date
from decimal import Decimal

import pytest

from carenet.assistance.engine.notice import NOTICE_HEADER_ZH, mask_name, notice_row


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("张三丰", "张*丰"), ("欧阳娜娜", "欧**娜"), ("王", "*"), ("", "")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_notice_row_masks_and_formats():
    r = notice_row("翠苑一区社区", "dibao_urban", "张三丰", date(1960, 1, 1), 2, Decimal("536"),
                   date(2025, 9, 30), date(2025, 10, 16))
    assert r.as_list() == ["翠苑一区社区", "城市低保", "张*丰", "2", "536.00", "2025-09-30", "2025-10-16"]
    assert len(r.as_list()) == len(NOTICE_HEADER_ZH)
    assert "三" not in r.applicant


def test_minor_applicant_is_never_named():
    r = notice_row("翠苑一区社区", "tekun", "李小明", date(2012, 5, 1), 1, None, date(2025, 9, 30), date(2025, 10, 16))
    assert r.applicant == "未成年人" and r.monthly_amount == ""

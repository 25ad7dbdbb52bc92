"""Public notice (公示) rows with masked names.

社会救助暂行办法 Art. 61 and 浙江省社会救助条例 Art. 55: personal information
learned in assistance work is confidential except what must be published;
notices involving minors must protect them. The notice therefore lists the
community, program, household size and amount, with the applicant's name
masked and minors never named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .household import age_on
from .money import fmt
from .rules import PROGRAM_LABELS_ZH


def mask_name(name: str) -> str:
    """张三 -> 张*, 张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜; keeps the first and (for 3+ chars) the last character."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class NoticeRow:
    community: str
    program_label: str
    applicant: str  # masked
    household_size: int
    monthly_amount: str  # "536.00", or "" for one-off/status programs
    notice_from: str
    notice_to: str

    def as_list(self) -> list[str]:
        return [self.community, self.program_label, self.applicant, str(self.household_size), self.monthly_amount,
                self.notice_from, self.notice_to]


NOTICE_HEADER_ZH = ["社区（村）", "救助项目", "申请人", "保障人数", "月保障金额（元）", "公示开始", "公示截止"]


def notice_row(community: str, program: str, applicant_name: str, applicant_birth_date: date | None,
               household_size: int, monthly_amount: Decimal | None, notice_from: date, notice_to: date) -> NoticeRow:
    """One line of the printable notice; a minor applicant is shown as 未成年人."""
    if applicant_birth_date is not None and age_on(applicant_birth_date, notice_from) < 18:
        shown = "未成年人"
    else:
        shown = mask_name(applicant_name)
    return NoticeRow(community, PROGRAM_LABELS_ZH.get(program, program), shown, household_size,
                     fmt(monthly_amount) if monthly_amount is not None else "", notice_from.isoformat(),
                     notice_to.isoformat())

"""Which laws belong to the civil-affairs domain CareNet serves.

CareNet's users ask about assistance, elder care, disability, family duties,
guardianship, inheritance, funerals and the like. Laws whose title names one
of these subjects get a ranking prior (DOMAIN_PRIOR in search.py), the same
way a vertical search engine prefers its own vertical. Other laws are still
searchable; they just need a better textual match to rank first.
"""

from __future__ import annotations

CIVIL_AFFAIRS_TITLE_KEYWORDS: tuple[str, ...] = (
    # assistance
    "社会救助", "最低生活保障", "特困", "五保", "救助管理", "流浪乞讨", "自然灾害救助", "临时救助",
    "医疗保障", "社会福利", "慈善", "法律援助",
    # elderly and care
    "老年人", "养老", "老龄", "长期护理",
    # disability
    "残疾", "无障碍",
    # family and persons (civil code books, marriage, adoption, inheritance)
    "民法典", "婚姻", "收养", "继承", "家庭暴力", "未成年人保护", "妇女权益", "家庭教育",
    # funerals, veterans, community self-government, social insurance
    "殡葬", "抚恤", "优待", "退役军人", "村民委员会", "居民委员会", "社会保险", "志愿服务",
)


def is_civil_affairs(title: str) -> bool:
    return any(k in title for k in CIVIL_AFFAIRS_TITLE_KEYWORDS)

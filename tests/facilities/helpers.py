"""Shared setup for facility tests: an approver, an evaluator, subsidy rules and a template."""
import datetime as dt
from decimal import Decimal as D

from carenet.core.roles import Role
from carenet.facilities import models as m
from carenet.facilities import services
from tests.factories import UserFactory

INDICATORS = [("fire", "safety", "消防安全", 25, 10), ("food", "safety", "食品安全", 10, 10),
              ("care", "services", "照护服务质量", 30, 10), ("mgmt", "management", "制度与档案管理", 15, 10),
              ("satis", "satisfaction", "老人满意度", 20, 100)]


def setup_rules(area):
    area.approver = UserFactory(username="approver1", role=Role.APPROVER, division=area.district)
    area.evaluator = UserFactory(username="evaluator1", role=Role.EVALUATOR, division=area.district)
    services.add_subsidy_rule(None, area.district, "center", "subsidy_cap_yearly", D("300000"), dt.date(2024, 1, 1), "区民政局文件")
    services.add_subsidy_rule(None, area.district, "station", "subsidy_cap_yearly", D("80000"), dt.date(2024, 1, 1))
    services.add_subsidy_rule(None, area.district, "*", "subsidy_bands",
                              [(90, "1.0"), (80, "0.8"), (70, "0.6"), (60, "0.4")], dt.date(2024, 1, 1))
    tpl = m.EvaluationTemplate.objects.create(name="养老服务设施年度评估")
    for i, (code, group, label, w, mx) in enumerate(INDICATORS):
        m.Indicator.objects.create(template=tpl, code=code, group=group, label=label, weight=w, max_points=mx, order=i)
    area.template = tpl
    return area


def make_facility(area, type_="station", division=None, status="operating", beds=20, nursing=10, **kw):
    return m.Facility.objects.create(code=f"F{m.Facility.objects.count() + 1:05d}", name=kw.pop("name", "幸福社区养老服务站"),
                                     type=type_, division=division or area.comm_a, status=status, beds=beds,
                                     nursing_beds=nursing, operator=kw.pop("operator", "安康养老服务公司"), **kw)

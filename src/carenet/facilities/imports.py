"""The facility registry import (养老服务设施台账), on the shared pipeline (core.imports, docs/import.md).
Staff pages: /imports/facilities.registry/.

The registry is maker/checker: every imported row becomes a creation proposal (FacilityChange) through
facilities.services.propose_create, audited there, that a district approver then approves or rejects as if it had
been typed in. A user imports only into their own area (the division column is resolved within it).
"""
from __future__ import annotations

from django.utils.translation import pgettext_lazy

from carenet.core.imports import Column, Importer, Schema
from carenet.core.models import Division
from carenet.facilities import models as m
from carenet.facilities import services

# How the bureaus' ledgers name the types (stored value: FacilityType).
TYPES = {
    "街道养老服务中心": "center", "乡镇养老服务中心": "center", "养老服务中心": "center", "区域养老服务中心": "center",
    "社区养老服务站": "station", "养老服务站": "station", "社区居家养老服务站": "station",
    "农村互助养老点": "rural_point", "互助养老点": "rural_point", "农村幸福院": "rural_point",
    "敬老院": "nursing_home", "特困供养机构": "nursing_home", "特困人员供养服务机构": "nursing_home",
    "民办养老机构": "private_home", "养老院": "private_home", "民办养老院": "private_home",
    "日间照料中心": "day_care", "老年人日间照料中心": "day_care",
    "助餐点": "meal_point", "老年食堂": "meal_point", "长者食堂": "meal_point",
}
MODELS = {"公建公营": "public", "公办公营": "public", "公建民营": "public_private", "公办民营": "public_private",
          "民建民营": "private", "民办": "private", "社会力量举办": "private"}

SCHEMA = Schema([
    Column("name", "机构名称", required=True, unique=True,
           aliases=("设施名称", "名称", "养老机构名称", "服务中心名称", "站点名称", "单位名称")),
    Column("type", "机构类型", kind="choice", choices=TYPES, required=True,
           aliases=("设施类型", "类型", "机构类别", "类别")),
    Column("division", "所属区划", kind="division", required=True,
           aliases=("所属社区", "所属街道", "所在社区", "所在街道", "所属乡镇", "社区", "街道", "乡镇(街道)", "村(居)",
                    "区划代码"),
           params={"min_level": Division.Level.STREET}),
    Column("address", "地址", aliases=("详细地址", "机构地址", "住址")),
    Column("beds", "床位数", kind="int", aliases=("床位", "床位数(张)", "床位总数", "总床位数")),
    Column("nursing_beds", "护理型床位数", kind="int", aliases=("护理型床位", "护理床位", "护理床位数")),
    Column("meal_capacity", "日供餐能力", kind="int", aliases=("供餐能力", "日供餐量", "每日供餐")),
    Column("building_area", "建筑面积", kind="decimal", aliases=("建筑面积(平方米)", "建筑面积(㎡)", "建筑面积(m2)")),
    Column("activity_area", "活动面积", kind="decimal", aliases=("公共活动面积", "活动场所面积", "活动面积(平方米)")),
    Column("licence_no", "许可证号", kind="code",
           aliases=("备案号", "许可或备案号", "设立许可证号", "备案编号", "许可证编号")),
    Column("operator", "运营方", aliases=("运营机构", "运营单位", "举办方", "运营主体")),
    Column("operating_model", "运营方式", kind="choice", choices=MODELS, aliases=("运营模式", "经营方式")),
    Column("phone", "联系电话", kind="phone"),
    Column("lon", "经度", kind="decimal"),
    Column("lat", "纬度", kind="decimal"),
])

STREET_TYPES = {"center"}  # a street/township center belongs to the street, not to one of its communities


class FacilityImporter(Importer):
    key = "facilities.registry"
    label = pgettext_lazy("import", "Facilities")
    capability = "facilities.propose"
    schema = SCHEMA
    back_url = "facilities:list"
    example = {"name": "银湖社区养老服务站", "type": "社区养老服务站", "address": "人民路1号", "beds": 10,
               "nursing_beds": 4, "meal_capacity": 80, "building_area": "350", "activity_area": "120",
               "operator": "某某养老服务有限公司", "operating_model": "公建民营", "phone": "0556-1234567"}

    def validate(self, rows, ctx):
        names = {(r["division"].pk, r["name"]) for r in rows if r["division"] and r["name"]}
        division_ids = {d for d, _n in names}
        # Registered, or proposed and not yet decided, in the same division: one query each for all rows.
        known = set(m.Facility.objects.filter(division_id__in=division_ids).values_list("division_id", "name"))
        pending = {(c.division_id, c.data.get("name")) for c in m.FacilityChange.objects.filter(
            division_id__in=division_ids, kind=m.FacilityChange.Kind.CREATE, state=m.FacilityChange.Decision.PENDING)}
        licences = {r["licence_no"] for r in rows if r["licence_no"]}
        used = set(m.Facility.objects.filter(licence_no__in=licences).values_list("licence_no", flat=True))
        seen_licence: dict[str, int] = {}
        for row in rows:
            division = row["division"]
            if division is not None and row["name"]:
                if (division.pk, row["name"]) in known:
                    row.error(f"“{row['name']}”已在{division.name}登记")
                elif (division.pk, row["name"]) in pending:
                    row.error(f"“{row['name']}”已有待审批的新增申请")
            if row["type"] in STREET_TYPES and division is not None and division.level != Division.Level.STREET:
                row.error("街道（乡镇）养老服务中心的所属区划应为街道或乡镇")
            if row["type"] in ("station", "rural_point") and division is not None \
                    and division.level < Division.Level.COMMUNITY:
                row.error("社区养老服务站、农村互助养老点的所属区划应为社区或村")
            beds, nursing = row["beds"], row["nursing_beds"]
            for key, label in (("beds", "床位数"), ("nursing_beds", "护理型床位数"), ("meal_capacity", "日供餐能力")):
                if row[key] is not None and row[key] < 0:
                    row.error(f"{label}不能为负数")
            if beds is not None and nursing is not None and nursing > beds:
                row.error(f"护理型床位数（{nursing}）超过床位数（{beds}）")
            for key, low, high, label in (("lon", 73, 136, "经度"), ("lat", 3, 54, "纬度")):
                if row[key] is not None and not (low <= row[key] <= high):
                    row.error(f"{label}“{row.raw.get(key)}”不在中国境内的范围")
            licence = row["licence_no"]
            if licence:
                if licence in used:
                    row.error(f"许可证号 {licence} 已被其他机构使用")
                elif licence in seen_licence:
                    row.error(f"许可证号与第{seen_licence[licence]}行重复")
                seen_licence.setdefault(licence, row.number)

    def write(self, rows, ctx):
        """Each row a creation proposal, through the registry's own service (audited there); approving them is
        the district approver's step, as for proposals typed in."""
        reason = f"批量导入：{ctx.filename}"[:300]
        for row in rows:
            data = {k: row[k] for k in ("name", "type", "division", "address", "beds", "nursing_beds",
                                        "meal_capacity", "building_area", "activity_area", "licence_no", "operator",
                                        "operating_model", "phone", "lat", "lon") if row[k] not in (None, "")}
            change = services.propose_create(ctx.user, data, reason)
            ctx.outcome.setdefault("changes", []).append(change.pk)

    def result_url(self, run):
        from django.urls import NoReverseMatch, reverse
        try:
            return reverse("facilities:changes") if run.outcome.get("changes") else ""
        except NoReverseMatch:
            return ""

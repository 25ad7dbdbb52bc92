"""The elder register import (老年人花名册), on the shared pipeline (core.imports). Staff pages:
/imports/people.elders/. Every row is checked; the good rows go in together or not at all."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from carenet.core import idcard, pii
from carenet.core.imports import Column, Importer, Schema
from carenet.core.models import Division
from carenet.core.tabular import YearMonth
from carenet.core.tabular.header import ALIASES
from carenet.people.services import DUPLICATE_ID_MESSAGE_ZH
from carenet.people import selectors, services
from carenet.people.models import Resident

LIVING = {"独居": "alone", "空巢": "empty_nest", "与子女同住": "with_children", "养老机构": "care_home"}
CARE = {"能力完好": "intact", "轻度失能": "mild", "中度失能": "moderate", "重度失能": "severe"}
CATEGORY = {"特困": "tekun", "低保": "dibao", "低保边缘": "marginal", "重度残疾": "severe_disability",
            "计生特殊家庭": "lost_only_child", "优抚对象": "youfu", "高龄": "advanced_age"}

SCHEMA = Schema([
    Column("name", "姓名", required=True),
    Column("sex", "性别", kind="sex"),
    Column("id_number", "身份证号", kind="id_number", required=True, unique=True),
    Column("birth", "出生日期", kind="date_or_month"),
    Column("phone", "联系电话", kind="phone"),
    Column("address", "住址"),
    # A code or a name; a workbook with one sheet per community may have no such column at all.
    Column("division", "区划代码", kind="division", required=True, from_sheet_name=True,
           aliases=("所属社区", *ALIASES["所属社区"]), params={"min_level": Division.Level.COMMUNITY}),
    Column("living", "居住状况", kind="choice", choices=LIVING),
    Column("care", "照护等级", kind="choice", choices=CARE),
    Column("categories", "特殊类别", kind="choices", choices=CATEGORY),
    Column("contact", "紧急联系人"),
    Column("contact_relation", "紧急联系人关系"),
    Column("contact_phone", "紧急联系人电话", kind="phone"),
])


class ElderImporter(Importer):
    key = "people.elders"
    label = _("Elders")
    capability = "people.import"
    schema = SCHEMA
    back_url = "elder_list"
    example = {"name": "张三", "sex": "男", "phone": "13800000000", "address": "人民路1号", "living": "独居",
               "care": "轻度失能", "categories": "低保、高龄", "contact": "张小明", "contact_relation": "儿子",
               "contact_phone": "13900000000"}

    def validate(self, rows, ctx):
        hashes = {}
        for row in rows:
            number = row["id_number"]
            if number is None:
                continue
            parsed = idcard.parse(number)
            for problem in idcard.cross_check(parsed, row["sex"], row["birth"] if isinstance(row["birth"], dt.date) else None):
                row.error(problem.message)
            if isinstance(row["birth"], YearMonth) and not row["birth"].matches(parsed.birth_date):
                row.error(f"出生年月与身份证号不符，身份证号为{parsed.birth_date:%Y-%m}")
            age = (ctx.today - parsed.birth_date).days // 365.2425
            if age < 60:
                row.error(f"年龄{int(age)}岁，不足60岁，不能建立老人档案")
            if bool(row["contact"]) != bool(row["contact_phone"]):
                row.error("紧急联系人与紧急联系人电话须同时填写")
            row.data["id"] = parsed
            hashes.setdefault(pii.lookup_hash(parsed.number), []).append(row)
        # Against people already registered anywhere in the district, in one query (named, audited).
        for h in selectors.registered_id_hashes_districtwide(ctx.user, list(hashes), why="elder import"):
            for row in hashes[h]:
                row.error(DUPLICATE_ID_MESSAGE_ZH)  # nothing about the record found (docs: Privacy)

    def write(self, rows, ctx):
        """Through the people service for bulk registration: the same records and audit rows as typing each
        elder in, written with one INSERT per table."""
        entries = []
        for row in rows:
            division, parsed = row["division"], row.data["id"]
            entries.append({
                "resident": Resident(name=row["name"], sex=row["sex"] or parsed.sex, birth_date=parsed.birth_date,
                                     phone=row.get("phone", ""), address=row.get("address", ""), division=division),
                "id_number": parsed.number, "hukou": "rural" if division.code[9:12] >= "200" else "urban",
                "living": row["living"] or "with_children", "care_level": row["care"] or "intact",
                "categories": row.get("categories", []),
                "contact": {"name": row["contact"], "relation": row.get("contact_relation", "") or "家属",
                            "phone": row["contact_phone"]} if row["contact"] else None,
            })
        services.import_elders(ctx.user, entries)

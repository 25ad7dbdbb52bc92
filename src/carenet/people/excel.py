"""Excel import and export of elders. Every row is checked; good rows go in together or not at all."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from carenet.core import audit, idcard, pii
from carenet.core.models import AuditLog, Division
from carenet.core.scoping import path_visible_to
from carenet.people import selectors
from carenet.people.models import (ElderCategory, ElderProfile, EmergencyContact, HealthArchive, Household,
                                   ImportBatch, Resident)

COLUMNS = ["姓名", "性别", "身份证号", "出生日期", "联系电话", "住址", "区划代码", "居住状况", "照护等级", "特殊类别",
           "紧急联系人", "紧急联系人关系", "紧急联系人电话"]
REQUIRED = ["姓名", "性别", "身份证号", "区划代码"]
SEX = {"男": "M", "女": "F", "M": "M", "F": "F"}
LIVING = {"独居": "alone", "空巢": "empty_nest", "与子女同住": "with_children", "养老机构": "care_home"}
CARE = {"能力完好": "intact", "轻度失能": "mild", "中度失能": "moderate", "重度失能": "severe"}
CATEGORY = {"特困": "tekun", "低保": "dibao", "低保边缘": "marginal", "重度残疾": "severe_disability",
            "计生特殊家庭": "lost_only_child", "优抚对象": "youfu", "高龄": "advanced_age"}
MAX_ROWS = 20000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not xlsx, wrong header, too many rows)."""


@dataclass
class Row:
    number: int  # row number in the sheet, as Excel shows it
    values: dict
    errors: list[str] = field(default_factory=list)
    parsed: dict = field(default_factory=dict)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def read_rows(data: bytes) -> list[Row]:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-xlsx upload
        raise ImportFileError(f"无法读取Excel文件（请上传 .xlsx 格式）: {exc.__class__.__name__}") from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(f"表头缺少列：{'、'.join(missing)}。请使用导出的模板。")
    out = []
    for number, raw in enumerate(rows, start=2):
        values = {h: _text(v) for h, v in zip(header, raw) if h}
        if not any(values.values()):
            continue
        out.append(Row(number, values))
        if len(out) > MAX_ROWS:
            raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行，请分批导入。")
    return out


def validate(rows: list[Row], user) -> None:
    """Fill each row's `errors` (specific reasons) or `parsed` (clean values)."""
    codes = {r.values.get("区划代码", "") for r in rows}
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)}
    hashes = {}
    for row in rows:
        v = row.values
        for col in REQUIRED:
            if not v.get(col):
                row.errors.append(f"缺少必填项：{col}")
        parsed_id = None
        if v.get("身份证号"):
            try:
                parsed_id = idcard.parse(v["身份证号"])
            except idcard.IdNumberError as exc:
                row.errors.append(exc.message)
        sex = SEX.get(v.get("性别", ""))
        if v.get("性别") and sex is None:
            row.errors.append(f"性别应为“男”或“女”，实际为“{v['性别']}”")
        birth = None
        if v.get("出生日期"):
            try:
                birth = dt.date.fromisoformat(v["出生日期"].replace("/", "-")[:10])
            except ValueError:
                row.errors.append(f"出生日期格式错误：{v['出生日期']}（应为 YYYY-MM-DD）")
        if parsed_id:
            for problem in idcard.cross_check(parsed_id, sex, birth):
                row.errors.append(problem.message)
            birth = parsed_id.birth_date
            age = (dt.date.today() - birth).days // 365.2425
            if age < 60:
                row.errors.append(f"年龄{int(age)}岁，不足60岁，不能建立老人档案")
            h = pii.lookup_hash(parsed_id.number)
            if h in hashes:
                row.errors.append(f"身份证号与第{hashes[h]}行重复")
            else:
                hashes[h] = row.number
        code = v.get("区划代码", "")
        division = divisions.get(code)
        if code and division is None:
            row.errors.append(f"区划代码 {code} 不存在")
        elif division is not None:
            if not path_visible_to(user, division.path):
                row.errors.append(f"区划代码 {code} 不在您的管辖范围内")
            elif division.level < Division.Level.COMMUNITY:
                row.errors.append(f"区划代码 {code} 是{division.get_level_display()}，请填写社区/村或网格代码")
        living = LIVING.get(v.get("居住状况", "") or "与子女同住")
        if living is None:
            row.errors.append(f"居住状况“{v['居住状况']}”无效，可选：{'、'.join(LIVING)}")
        care = CARE.get(v.get("照护等级", "") or "能力完好")
        if care is None:
            row.errors.append(f"照护等级“{v['照护等级']}”无效，可选：{'、'.join(CARE)}")
        cats = []
        for label in filter(None, (c.strip() for c in v.get("特殊类别", "").replace("，", ",").replace("、", ",").split(","))):
            if label not in CATEGORY:
                row.errors.append(f"特殊类别“{label}”无效，可选：{'、'.join(CATEGORY)}")
            else:
                cats.append(CATEGORY[label])
        if bool(v.get("紧急联系人")) != bool(v.get("紧急联系人电话")):
            row.errors.append("紧急联系人与紧急联系人电话须同时填写")
        if not row.errors:
            row.parsed = {"id": parsed_id, "sex": sex, "division": division, "living": living, "care": care,
                          "categories": cats}
    # Duplicates against people already registered, in one query.
    found = selectors.registered_id_hashes_districtwide(user, list(hashes), why="Excel import")
    if found:
        for row in rows:
            pid = row.parsed.get("id") if row.parsed else None
            if pid and pii.lookup_hash(pid.number) in found:
                row.errors.append("身份证号已登记（重复）")
                row.parsed = {}


@transaction.atomic
def write(rows: list[Row], user) -> int:
    """Insert every valid row. Any failure rolls back the whole batch: nothing is half-imported."""
    count = 0
    for row in rows:
        if row.errors:
            continue
        v, p = row.values, row.parsed
        household = Household.objects.create(division=p["division"], address=v.get("住址", ""),
                                             hukou="rural" if p["division"].code[9:12] >= "200" else "urban")
        resident = Resident(name=v["姓名"], sex=p["sex"], birth_date=p["id"].birth_date, phone=v.get("联系电话", ""),
                            address=v.get("住址", ""), division=p["division"], household=household)
        resident.set_id_number(p["id"].number)
        resident.save()
        elder = ElderProfile.objects.create(resident=resident, living=p["living"], care_level=p["care"])
        for code in p["categories"]:
            ElderCategory.objects.create(elder=elder, code=code)
        HealthArchive.objects.create(elder=elder)
        if v.get("紧急联系人"):
            EmergencyContact.objects.create(elder=elder, order=1, name=v["紧急联系人"],
                                            relation=v.get("紧急联系人关系", "") or "家属", phone=v["紧急联系人电话"])
        after = audit.snapshot(resident) | {"categories": p["categories"], "source": "excel row %d" % row.number}
        audit.record(AuditLog.Action.CREATE, resident, actor=user, after=after)
        count += 1
    return count


def rejected_report(rows: list[Row]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "未导入行"
    ws.append(["行号", "错误原因", *COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        if row.errors:
            ws.append([row.number, "；".join(row.errors), *[row.values.get(c, "") for c in COLUMNS]])
            ws.cell(ws.max_row, 2).fill = PatternFill("solid", fgColor="FFF2CC")
    ws.column_dimensions["B"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def import_file(data: bytes, filename: str, user) -> ImportBatch:
    rows = read_rows(data)
    validate(rows, user)
    accepted = write(rows, user)
    rejected = sum(1 for r in rows if r.errors)
    batch = ImportBatch.objects.create(user=user, filename=filename[:200], total=len(rows), accepted=accepted,
                                       rejected=rejected, report=rejected_report(rows) if rejected else None)
    audit.record(AuditLog.Action.IMPORT, actor=user, model="people.importbatch", object_id=str(batch.pk),
                 object_repr=filename[:200], note=f"rows={len(rows)} accepted={accepted} rejected={rejected}",
                 division_path=user.division.path if user.division_id else "")
    return batch


LIVING_LABEL = {v: k for k, v in LIVING.items()}
CARE_LABEL = {v: k for k, v in CARE.items()}
CATEGORY_LABEL = {v: k for k, v in CATEGORY.items()}


def export(elders, user) -> bytes:
    """The elders a user can see, with masked ID numbers. The export itself is audited."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("老人名册")
    ws.append(COLUMNS)
    n = 0
    for e in elders.prefetch_related("categories", "contacts"):
        r = e.resident
        first = next(iter(e.contacts.all()), None)
        ws.append([r.name, "男" if r.sex == "M" else "女", r.id_masked, r.birth_date.isoformat(), r.phone, r.address,
                   r.division.code, LIVING_LABEL.get(e.living, ""), CARE_LABEL.get(e.care_level, ""),
                   "、".join(CATEGORY_LABEL.get(c.code, c.code) for c in e.categories.all()),
                   first.name if first else "", first.relation if first else "", first.phone if first else ""])
        n += 1
    audit.record(AuditLog.Action.EXPORT, actor=user, model="people.elderprofile", note=f"rows={n}",
                 division_path=user.division.path if user.division_id else "")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_file() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    ws.append(["张三", "男", "", "", "13800000000", "人民路1号", "", "独居", "轻度失能", "低保、高龄", "张小明", "儿子", "13900000000"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


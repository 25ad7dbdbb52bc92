"""Realistic register files, shaped the way bureaus' files are, made by the tests. Each builder returns
(filename, bytes); FIXTURES below lists every shape with the outcome the elder import must give.

The elders are born 1950-1958 in region 340899 (the `area` fixture's district), so their ID numbers are valid
and they are over 60. Division names are those of the `area` fixture (甲社区, 乙社区, 丙社区).
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment

from carenet.core import idcard

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
TEMPLATE = ["姓名", "性别", "身份证号", "出生日期", "联系电话", "住址", "区划代码", "居住状况", "照护等级", "特殊类别",
            "紧急联系人", "紧急联系人关系", "紧急联系人电话"]


def person(i: int, sex: str = "M") -> dict:
    birth = dt.date(1950 + i % 9, 1 + i % 12, 1 + i % 27)
    seq = (i * 2 + (1 if sex == "M" else 0)) % 1000 or 1
    number = idcard.make("340899", birth, seq)
    if number.endswith("X"):  # all digits, so that any of them can be typed into a number cell
        number = idcard.make("340899", birth, seq + 2)
    return {"name": f"测试{'一二三四五六七八九十'[i % 10]}{i}", "sex": sex, "birth": birth, "id": number}


def _xlsx(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def title_row() -> tuple[str, bytes]:
    """The template with a merged title row and a blank row above the header. → 3 imported."""
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["银湖社区60周岁以上老年人花名册"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TEMPLATE))
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(["填报单位：甲社区", None, None, None, None, None, None, None, None, None, "填报日期：2026年11月"])
    ws.append(TEMPLATE)
    for i in range(3):
        p = person(i)
        ws.append([p["name"], "男", p["id"], p["birth"].isoformat(), "13800000000", "人民路1号", "340899001001",
                   "独居", "轻度失能", "低保、高龄", "王五", "儿子", "13900000000"])
    return "银湖社区花名册.xlsx", _xlsx(wb)


def aliased_headers() -> tuple[str, bytes]:
    """序号 column, 公民身份号码 / 联系方式 / 出生年月 / 所属社区 (a name, not a code), M/F and 1/2 for sex.
    → 4 imported."""
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "老人姓名", "性别", "公民身份号码", "出生年月", "联系方式", "家庭住址", "所属社区"])
    sexes = ["M", "F", "1", "2"]
    for i in range(4):
        p = person(10 + i, "M" if sexes[i] in ("M", "1") else "F")
        ws.append([i + 1, p["name"], sexes[i], p["id"], f"{p['birth'].year}.{p['birth'].month:02d}",
                   "0556-5551234", "幸福路2号", "甲社区" if i % 2 else "一街道甲社区"])
    return "老年人名单（导出）.xlsx", _xlsx(wb)


def ids_as_numbers() -> tuple[str, bytes]:
    """身份证号 typed into number cells (Excel keeps 15 significant digits). The first two rows are refused with the
    exact message; the third, typed as text, is imported. → 1 imported, 2 rejected."""
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "身份证号码", "所属社区"])
    for i in range(3):
        p = person(20 + i)
        ws.append([p["name"], "男", float(p["id"]) if i < 2 else p["id"], "甲社区"])
        if i < 2:
            ws.cell(ws.max_row, 3).number_format = "0"
    return "身份证号为数字.xlsx", _xlsx(wb)


def gbk_csv() -> tuple[str, bytes]:
    """A CSV in GBK (as Excel on a Chinese Windows saves it), dates as 1964.2.2 and 1964年2月2日, a lower-case x
    and a full-width comma in the address. → 3 imported."""
    lines = ["姓名,性别,身份证号码,出生日期,手机号,住址,村(居)"]
    for i, fmt in enumerate(["{y}.{m}.{d}", "{y}年{m}月{d}日", "{y}/{m}/{d}"]):
        p = person(30 + i)
        b = p["birth"]
        number = p["id"].lower() if p["id"].endswith("X") else p["id"]
        lines.append(f"{p['name']},男,{number},{fmt.format(y=b.year, m=b.month, d=b.day)},13800000000,"
                     f"和平里3号，2单元,甲社区")
    x = _with_x_check()
    lines.append(f"{x['name']},{'男' if x['sex'] == 'M' else '女'},{x['id'].lower()},,13800000000,和平里4号,甲社区")
    return "名单.csv", ("\r\n".join(lines) + "\r\n").encode("gbk")


def _with_x_check() -> dict:
    """Someone whose ID number ends in X (checked character 10)."""
    for seq in range(1, 999):
        birth = dt.date(1955, 5, 5)
        number = idcard.make("340899", birth, seq)
        if number.endswith("X"):
            return {"name": "测试叉", "sex": "M" if seq % 2 else "F", "birth": birth, "id": number}
    raise AssertionError("no X check character found")


def full_width() -> tuple[str, bytes]:
    """Full-width digits and letters, ideographic and zero-width spaces, a non-breaking space. → 2 imported."""
    wb = Workbook()
    ws = wb.active
    ws.append(["姓　名", "性别", "身份证号", "联系电话", "区划代码"])
    width = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    for i in range(2):
        p = person(40 + i)
        ws.append([f"\u200b{p['name']}\u3000", " 男 ", p["id"].translate(width), "１３８\u00a00000 0000",
                   "３４０８９９００１００１"])
    return "全角.xlsx", _xlsx(wb)


def serial_dates() -> tuple[str, bytes]:
    """出生日期 as bare Excel serial numbers (the date format lost) and as 19500304 typed as a number. → 2 imported."""
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "身份证号", "出生日期", "区划代码"])
    for i in range(2):
        p = person(50 + i)
        serial = (p["birth"] - dt.date(1899, 12, 30)).days
        ws.append([p["name"], "男", p["id"], serial if i == 0 else int(p["birth"].strftime("%Y%m%d")), "340899001001"])
    return "出生日期为数字.xlsx", _xlsx(wb)


def two_sheets() -> tuple[str, bytes]:
    """One sheet per community, named after it, with no division column, and a notes sheet. → 2 + 1 imported."""
    wb = Workbook()
    notes = wb.active
    notes.title = "填表说明"
    notes.append(["请按社区分表填写，每个社区一张表。"])
    n = 60
    for sheet, count in (("甲社区", 2), ("乙社区", 1)):
        ws = wb.create_sheet(sheet)
        ws.append([f"{sheet}老年人花名册"])
        ws.append(["姓名", "性别", "身份证号码", "联系方式"])
        for _ in range(count):
            p = person(n)
            n += 1
            ws.append([p["name"], "男", p["id"], "13800000000"])
    return "分社区.xlsx", _xlsx(wb)


def scientific_csv() -> tuple[str, bytes]:
    """A UTF-8 CSV with a BOM that Excel wrote from number cells: 3.40899E+17. → 0 imported, 2 rejected."""
    lines = ["姓名,性别,身份证号,区划代码"]
    for i in range(2):
        p = person(70 + i)
        lines.append(f"{p['name']},男,{float(p['id']):.5E}".replace("E+", "E+") + ",340899001001")
    return "导出.csv", ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def new_source() -> tuple[str, bytes]:
    """Headers no alias knows (人员名称, 证照号码, 所在单元): the mapping screen is needed. Once 人员名称 → 姓名 and
    证照号码 → 身份证号 are chosen (所在单元 is a community name), → 2 imported; the mapping is kept for next time."""
    wb = Workbook()
    ws = wb.active
    ws.append(["人员名称", "男女", "证照号码", "所在单元"])
    for i in range(2):
        p = person(80 + i)
        ws.append([p["name"], "男", p["id"], "甲社区"])
    return "新系统导出.xlsx", _xlsx(wb)


def legacy_xls() -> tuple[str, bytes]:
    """A legacy .xls (BIFF8, as older systems and WPS save it), converted by LibreOffice from
    legacy_xls_source(): title row, aliased headers, a real date cell, one ID typed as a number.
    → 2 imported, 1 rejected (ID stored as a number)."""
    return "老系统.xls", (FIXTURE_DIR / "elders-legacy.xls").read_bytes()


def legacy_xls_source() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "老年人"
    ws.append(["甲社区老年人花名册"])
    ws.merge_cells("A1:F1")
    ws.append(["序号", "姓名", "性别", "身份证号码", "出生日期", "所属社区"])
    for i in range(3):
        p = person(90 + i)
        ws.append([i + 1, p["name"], "男", float(p["id"]) if i == 2 else p["id"],
                   dt.datetime.combine(p["birth"], dt.time()), "甲社区"])
        ws.cell(ws.max_row, 5).number_format = "yyyy-mm-dd"
    return _xlsx(wb)


def merged_cells() -> tuple[str, bytes]:
    """所属社区 written once and merged down over the rows of its elders (and 序号 merged over a two-row header
    with 紧急联系人 over 姓名 | 电话), as hand-kept registers are. Every row gets its community from the merged
    cell. → 5 imported (3 in 甲社区, 2 in 乙社区)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["社区老年人花名册（合并单元格）"])
    ws.merge_cells("A1:G1")
    ws.append(["所属社区", "姓名", "性别", "身份证号码", "联系方式", "紧急联系人", None])
    ws.append([None, None, None, None, None, "姓名", "电话"])
    for col in "ABCDE":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("F2:G2")
    for i in range(5):
        p = person(100 + i)
        ws.append(["甲社区" if i == 0 else ("乙社区" if i == 3 else None), p["name"], "男", p["id"], "13800000000",
                   "王五", "13900000000"])
    ws.merge_cells("A4:A6")
    ws.merge_cells("A7:A8")
    ws["A4"].alignment = Alignment(vertical="center")
    return "合并单元格.xlsx", _xlsx(wb)


def facilities_register() -> tuple[str, bytes]:
    """A street's facility ledger: title row, aliased headers (设施名称, 类别, 所在社区, 床位, 备案号), full-width
    numbers, a street merged down over its rows. Rows: a station (ok), a center in a street (ok), a rural point
    with more nursing beds than beds (rejected), a facility in 丙社区 of 二街道 (outside a 一街道 reviewer's area:
    rejected), an unknown type (rejected). → 2 imported, 3 rejected for a 一街道 reviewer."""
    wb = Workbook()
    ws = wb.active
    ws.title = "设施台账"
    ws.append(["一街道养老服务设施台账（2026年）"])
    ws.merge_cells("A1:I1")
    ws.append(["序号", "设施名称", "类别", "所在社区", "详细地址", "床位", "护理型床位", "备案号", "运营模式"])
    ws.append([1, "甲社区养老服务站", "社区养老服务站", "甲社区", "人民路１号", "１０", 4, "MZ-0001", "公建民营"])
    ws.append([2, "一街道养老服务中心", "街道养老服务中心", "一街道", "人民路2号", 40, 20, "MZ-0002", "公建公营"])
    ws.append([3, "乙村互助养老点", "农村互助养老点", "乙社区", "乙村", 5, 8, None, None])
    ws.append([4, "丙社区养老服务站", "社区养老服务站", "丙社区", "和平路3号", 10, 2, "MZ-0004", None])
    ws.append([5, "某养生馆", "养生会所", "甲社区", "人民路5号", 0, 0, None, None])
    return "设施台账.xlsx", _xlsx(wb)


def providers_register() -> tuple[str, bytes]:
    """Home-care providers as a GBK CSV: aliased headers (服务机构名称, 所属街道, 服务范围, 签约日期, 合同到期日期),
    dates as 2026.1.1 and 2026年12月31日. Rows: one covering 甲社区、乙社区 (ok), one with the contract ending before it
    starts (rejected). → 1 imported, 1 rejected."""
    lines = ["服务机构名称,所属街道,服务范围,签约日期,合同到期日期,联系电话",
             "安康居家养老服务有限公司,一街道,甲社区、乙社区,2026.1.1,2026年12月31日,0556-5550001",
             "倒签服务社,一街道,甲社区,2026.6.1,2026.1.1,0556-5550002"]
    return "服务商名录.csv", ("\r\n".join(lines) + "\r\n").encode("gbk")


def helpers_register() -> tuple[str, bytes]:
    """Helpers (助老员花名册) with 所属服务商 merged down over the rows of its helpers, 服务项目 as 助餐、助洁.
    Rows: two helpers of 安康 (ok), one with an unknown skill (rejected), one of a provider that is not
    registered (rejected). → 2 imported, 2 rejected (after providers_register)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["所属服务商", "助老员姓名", "手机号", "服务社区", "服务项目", "持证情况"])
    ws.append(["安康居家养老服务有限公司", "李助一", "13800000001", "甲社区", "助餐、助洁", "养老护理员（四级）"])
    ws.append([None, "李助二", "13800000002", "乙社区", "助浴", None])
    ws.append([None, "李助三", "13800000003", "甲社区", "按摩", None])
    ws.merge_cells("A2:A4")
    ws.append(["未登记服务社", "王助四", "13800000004", "甲社区", "助餐", None])
    return "助老员花名册.xlsx", _xlsx(wb)


# name → (builder, imported, rejected) for the elder import, with the area fixture's worker of 甲社区 (comm_a)
# or its district admin (two_sheets spans two communities).
FIXTURES = {
    "title_row": (title_row, 3, 0),
    "aliased_headers": (aliased_headers, 4, 0),
    "ids_as_numbers": (ids_as_numbers, 1, 2),
    "gbk_csv": (gbk_csv, 4, 0),
    "full_width": (full_width, 2, 0),
    "serial_dates": (serial_dates, 2, 0),
    "two_sheets": (two_sheets, 3, 0),
    "scientific_csv": (scientific_csv, 0, 2),
    "legacy_xls": (legacy_xls, 2, 1),
    "merged_cells": (merged_cells, 5, 0),
}

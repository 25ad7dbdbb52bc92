"""The pure parts of the import pipeline (core.tabular): plain Python, no database."""
import datetime as dt
from decimal import Decimal

import pytest

from carenet.core import idcard
from carenet.core.tabular import (ID_AS_NUMBER, CellError, Column, FileError, MappingNeeded, Schema, Sheet,
                                  YearMonth, parse, read_file, rejects_xlsx)
from carenet.core.tabular import normalise as n
from carenet.core.tabular.header import AliasTable, find_header, signature
from tests import spreadsheets as fx

ELDERS = Schema([
    Column("name", "姓名", required=True),
    Column("sex", "性别", kind="sex"),
    Column("id_number", "身份证号", kind="id_number", required=True),
    Column("birth", "出生日期", kind="date_or_month"),
    Column("phone", "联系电话", kind="phone"),
    Column("community", "所属社区", from_sheet_name=True),
    Column("code", "区划代码", kind="code"),
])
VALID = "340899196402020751"


# --- normalisers ---------------------------------------------------------------------------------------------

def test_clean_folds_full_width_and_drops_invisible_characters():
    assert n.clean("\u200b张\u3000三\u00a0 \ufeff") == "张 三"
    assert n.clean("１２３ＡＢｃ") == "123ABc"
    assert n.clean("人民路（１号）") == "人民路（1号）"  # Chinese punctuation in free text is kept


@pytest.mark.parametrize("raw", [VALID, " 3408 9919 6402 0207 51 ", "３４０８９９１９６４０２０２０７５１", "\u200b" + VALID,
                                 "340899-19640202-0751"])
def test_id_number_is_normalised(raw):
    assert n.id_number(raw) == VALID


def test_lower_case_x_is_upper_cased():
    number = next(idcard.make("110105", dt.date(1950, 1, 1), s) for s in range(1, 999)
                  if idcard.make("110105", dt.date(1950, 1, 1), s).endswith("X"))
    assert n.id_number(number.lower()) == number
    assert n.id_number(number.lower().replace("x", "ｘ")) == number


@pytest.mark.parametrize("raw", [float(VALID), 3.40899196402021e17, "3.40899E+17", "3.40899196402021E+17",
                                 "340899196402021000", 340899196402021000])
def test_an_id_number_stored_as_a_number_is_named_and_never_guessed(raw):
    with pytest.raises(CellError) as err:
        n.id_number(raw)
    assert err.value.message == ID_AS_NUMBER


def test_an_exact_integer_id_from_a_program_is_accepted():
    assert n.id_number(int(VALID)) == VALID


def test_a_bad_check_character_keeps_its_own_message():
    with pytest.raises(CellError) as err:
        n.id_number(VALID[:17] + "2")
    assert "校验码" in err.value.message and err.value.message != ID_AS_NUMBER


@pytest.mark.parametrize("raw,expected", [
    ("1964.2.2", dt.date(1964, 2, 2)), ("1964年2月2日", dt.date(1964, 2, 2)), ("1964-02-02", dt.date(1964, 2, 2)),
    ("1964/2/2", dt.date(1964, 2, 2)), ("19640202", dt.date(1964, 2, 2)), (19640202, dt.date(1964, 2, 2)),
    (23409, dt.date(1964, 2, 2)), (23409.0, dt.date(1964, 2, 2)), ("23409", dt.date(1964, 2, 2)),
    (dt.datetime(1964, 2, 2), dt.date(1964, 2, 2)), ("１９６４．２．２", dt.date(1964, 2, 2)),
    ("1964-02-02 00:00:00", dt.date(1964, 2, 2)), ("1964年02月02日", dt.date(1964, 2, 2)),
])
def test_dates_in_the_forms_registers_use(raw, expected):
    assert n.date(raw) == expected


def test_year_and_month_only_where_allowed():
    assert n.date_or_month("1964.02") == YearMonth(1964, 2)
    assert n.date_or_month("1964年2月") == YearMonth(1964, 2)
    assert n.date_or_month(196402) == YearMonth(1964, 2)
    assert n.date_or_month("1964.2.2") == dt.date(1964, 2, 2)
    with pytest.raises(CellError):
        n.date("1964.02")


@pytest.mark.parametrize("raw", ["1964.2.30", "二〇二四", "1964.13.1", "abc"])
def test_bad_dates_say_so(raw):
    with pytest.raises(CellError) as err:
        n.date(raw, Column("birth", "出生日期"))
    assert "出生日期" in err.value.message and raw in err.value.message


@pytest.mark.parametrize("raw,expected", [("男", "M"), ("女", "F"), ("M", "M"), ("f", "F"), ("1", "M"), (2, "F"),
                                          (2.0, "F"), (" 男性 ", "M"), ("Ｆ", "F")])
def test_sex(raw, expected):
    assert n.sex(raw) == expected


def test_unknown_sex_is_refused_with_the_choices():
    with pytest.raises(CellError) as err:
        n.sex("未知")
    assert "男/女" in err.value.message


def test_numbers_codes_phones_and_choices():
    assert n.code(340899001001.0) == "340899001001"
    assert n.code("３４０８９９ ００１００１") == "340899001001"
    assert n.phone(13800000000.0) == "13800000000"
    assert n.phone("138-0000 0000") == "13800000000"
    with pytest.raises(CellError):
        n.phone("无")
    assert n.integer("１２") == 12 and n.integer(3.0) == 3
    assert n.decimal("1,200.50元") == Decimal("1200.50")
    assert n.boolean("是") is True and n.boolean("×") is False
    col = Column("cat", "特殊类别", kind="choices", choices={"低保": "dibao", "高龄": "advanced_age"})
    assert n.choices("低保、 高龄，低保", col) == ["dibao", "advanced_age"]
    with pytest.raises(CellError) as err:
        n.choices("五保", col)
    assert "可选：低保、高龄" in err.value.message


# --- header and aliases --------------------------------------------------------------------------------------

def test_aliases_map_the_names_bureaus_use():
    table = AliasTable(ELDERS.columns)
    for header in ["身份证号", "身份证号码", "公民身份号码", "证件号码", " 身份证号 (必填) ", "*身份证号码"]:
        assert table.match(header) == "id_number", header
    for header in ["联系电话", "联系方式", "手机号"]:
        assert table.match(header) == "phone"
    for header in ["出生日期", "出生年月"]:
        assert table.match(header) == "birth"
    for header in ["所属社区", "社区", "村(居)", "村（居）"]:
        assert table.match(header) == "community", header
    assert table.match("备注") is None


def test_header_below_title_rows_and_merged_cells():
    rows = [["银湖社区60周岁以上老年人花名册", None, None], [None, None, None], ["填报单位：银湖社区", None, "2026年"],
            ["姓名", "公民身份号码", "联系方式"], ["张三", VALID, "13800000000"]]
    index, headers, start = find_header(rows, AliasTable(ELDERS.columns))
    assert (index, start) == (3, 4) and headers == ["姓名", "公民身份号码", "联系方式"]


def test_two_level_header_under_a_merged_parent():
    schema = Schema([Column("name", "姓名"), Column("contact", "紧急联系人"), Column("contact_phone", "紧急联系人电话")])
    rows = [["姓名", "紧急联系人", None], [None, "姓名", "电话"], ["张三", "张小三", "13900000000"]]
    index, headers, start = find_header(rows, AliasTable(schema.columns))
    assert headers == ["姓名", "紧急联系人姓名", "紧急联系人电话"] and start == 2
    parsed = parse([Sheet("s", rows)], schema)
    assert parsed.rows[0].values == {"name": "张三", "contact": "张小三", "contact_phone": "13900000000"}


def test_a_source_unknown_to_the_aliases_still_finds_its_header_and_asks_for_a_mapping():
    rows = [["某系统导出"], ["人员名称", "证照号码", "所在单元"], ["张三", VALID, "甲社区"]]
    with pytest.raises(MappingNeeded) as err:
        parse([Sheet("s", rows)], ELDERS)
    assert "姓名" in str(err.value) and "身份证号" in str(err.value)
    lay = err.value.layouts[0]
    assert lay.header_row == 2 and lay.unmatched == ["人员名称", "证照号码", "所在单元"]
    saved = {"人员名称": "name", "证照号码": "id_number", "所在单元": "community"}
    parsed = parse([Sheet("s", rows)], ELDERS, saved)
    assert parsed.rows[0].values["id_number"] == VALID and parsed.layouts[0].from_saved
    assert parsed.layouts[0].signature == lay.signature == signature(["人员名称", "证照号码", "所在单元"])


def test_a_saved_mapping_can_ignore_a_column():
    rows = [["姓名", "身份证号", "电话"], ["张三", VALID, "办公室"]]
    assert parse([Sheet("s", rows)], ELDERS).rows[0].errors  # 电话 → phone, "办公室" is not a number
    parsed = parse([Sheet("s", rows)], ELDERS, {"电话": ""})
    assert parsed.rows[0].ok and parsed.rows[0]["phone"] is None


# --- whole files ---------------------------------------------------------------------------------------------

def _parse(builder, schema=ELDERS):
    name, data = builder()
    return parse(read_file(data, name), schema)


def test_title_row_file():
    parsed = _parse(fx.title_row)
    assert parsed.layouts[0].header_row == 3 and len(parsed.rows) == 3 and parsed.rejected == []
    assert parsed.rows[0].number == 4 and parsed.rows[0]["code"] == "340899001001"


def test_aliased_headers_file():
    parsed = _parse(fx.aliased_headers)
    lay = parsed.layouts[0]
    assert lay.unmatched == ["序号", "家庭住址"] and not lay.missing
    assert [r["sex"] for r in parsed.rows] == ["M", "F", "M", "F"]
    assert all(isinstance(r["birth"], YearMonth) for r in parsed.rows) and parsed.rejected == []


def test_ids_as_numbers_file():
    parsed = _parse(fx.ids_as_numbers)
    assert [r.errors for r in parsed.rows] == [[ID_AS_NUMBER], [ID_AS_NUMBER], []]


def test_gbk_csv_file():
    parsed = _parse(fx.gbk_csv)
    assert parsed.rejected == [] and len(parsed.rows) == 4
    assert [r["birth"] for r in parsed.rows[:3]] == [fx.person(30 + i)["birth"] for i in range(3)]
    assert parsed.rows[3]["id_number"].endswith("X") and parsed.rows[3]["community"] == "甲社区"


def test_gb18030_characters_outside_gbk_survive():
    text = "姓名,身份证号\r\n" + "\u3400\u9fa6" + f"龘,{VALID}\r\n" * 3  # CJK extension A needs GB18030
    parsed = parse(read_file(text.encode("gb18030"), "a.csv"), ELDERS)
    assert parsed.rows[0]["name"].startswith("\u3400\u9fa6")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gbk", "gb18030"])
def test_csv_in_every_encoding_registers_are_saved_in(encoding):
    p = fx.person(1)
    text = f"姓名\t身份证号\t所属社区\r\n{p['name']}\t{p['id']}\t甲社区\r\n"  # tab-separated, as WPS saves .txt
    parsed = parse(read_file(text.encode(encoding), "名单.txt"), ELDERS)
    assert [(r["name"], r["id_number"], r["community"]) for r in parsed.rows] == [(p["name"], p["id"], "甲社区")]


def test_big5_text_is_recognised():
    text = "姓名,身份證號碼,住址\r\n" + "".join(f"陳大文{i},A12345678{i},臺北市中正區重慶南路一段{i}號\r\n" for i in range(20))
    from carenet.core.tabular.read import decode_text
    assert decode_text(text.encode("big5")) == text


def test_merged_cells_file():
    """A 社区 merged down over its rows reaches each of them; merges in the header rows stay as they are."""
    schema = Schema([*ELDERS.columns[:5], Column("community", "所属社区"),
                     Column("contact", "紧急联系人"), Column("contact_phone", "紧急联系人电话", kind="phone")])
    parsed = _parse(fx.merged_cells, schema)
    assert parsed.layouts[0].header_row == 2 and parsed.layouts[0].first_data_row == 4
    assert [r["community"] for r in parsed.rows] == ["甲社区"] * 3 + ["乙社区"] * 2
    assert {(r["contact"], r["contact_phone"]) for r in parsed.rows} == {("王五", "13900000000")}
    assert parsed.rejected == []


def test_fill_down_takes_the_merged_ranges_as_xlrd_and_openpyxl_give_them():
    from carenet.core.tabular.read import fill_down
    rows = [["社区", "姓名"], ["甲社区", "a"], [None, "b"], ["", "c"], ["乙社区"], [None, "e"]]
    fill_down(rows, [(1, 3, 0, 0), (4, 5, 0, 1), (0, 0, 0, 1)])
    assert [r[0] for r in rows] == ["社区", "甲社区", "甲社区", "甲社区", "乙社区", "乙社区"]


def test_full_width_file():
    parsed = _parse(fx.full_width)
    assert parsed.rejected == []
    row = parsed.rows[0]
    assert row["name"] == fx.person(40)["name"] and row["id_number"] == fx.person(40)["id"]
    assert row["phone"] == "13800000000" and row["code"] == "340899001001" and row["sex"] == "M"


def test_serial_dates_file():
    parsed = _parse(fx.serial_dates)
    assert [r["birth"] for r in parsed.rows] == [fx.person(50)["birth"], fx.person(51)["birth"]]


def test_two_sheets_file():
    parsed = _parse(fx.two_sheets)
    assert parsed.skipped_sheets == ["填表说明"]
    assert [(r.sheet, r.number, r["community"]) for r in parsed.rows] == [
        ("甲社区", 3, "甲社区"), ("甲社区", 4, "甲社区"), ("乙社区", 3, "乙社区")]


def test_scientific_csv_file():
    parsed = _parse(fx.scientific_csv)
    assert [r.errors for r in parsed.rows] == [[ID_AS_NUMBER]] * 2


def test_legacy_xls_file():
    parsed = _parse(fx.legacy_xls)
    assert parsed.layouts[0].header_row == 2
    assert [r.errors for r in parsed.rows] == [[], [], [ID_AS_NUMBER]]
    assert parsed.rows[0]["birth"] == fx.person(90)["birth"] and parsed.rows[0]["id_number"] == fx.person(90)["id"]


@pytest.mark.parametrize("data,name,words", [
    (b"", "a.xlsx", "空"), (b"PK\x03\x04garbage", "a.xlsx", ".xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", "a.xls", ".xls"),
    (b"<html><table><tr><td>1</td></tr></table></html>", "a.xls", "网页"),
    (b"\x89PNG\r\n\x1a\n", "a.xlsx", "不是有效的 Excel"),
])
def test_unreadable_files_say_what_to_do(data, name, words):
    with pytest.raises(FileError) as err:
        read_file(data, name)
    assert words in str(err.value)


def test_no_header_anywhere():
    with pytest.raises(FileError) as err:
        parse([Sheet("s", [[1, 2, 3], [4, 5, 6]])], ELDERS)
    assert "表头" in str(err.value)


def test_required_values_and_too_many_rows():
    rows = [["姓名", "身份证号"], ["", VALID], ["李四", ""]]
    parsed = parse([Sheet("s", rows)], ELDERS)
    assert [r.errors for r in parsed.rows] == [["缺少必填项：姓名"], ["缺少必填项：身份证号"]]
    small = Schema(ELDERS.columns, max_rows=1)
    with pytest.raises(FileError) as err:
        parse([Sheet("s", rows)], small)
    assert "分批" in str(err.value)


def test_the_reject_report_masks_id_numbers_everywhere():
    from io import BytesIO

    from openpyxl import load_workbook
    rows = [["姓名", "身份证号", "联系电话"], ["张三", VALID[:17] + "2", "13800000000"],
            ["李四", float(VALID), f"见{VALID}"], ["王五", VALID, "13900000000"]]
    parsed = parse([Sheet("s", rows)], ELDERS)
    data = rejects_xlsx(ELDERS, parsed.rows)
    cells = [c for r in load_workbook(BytesIO(data)).active.iter_rows(values_only=True) for c in r if c]
    text = " ".join(str(c) for c in cells)
    assert VALID not in text and VALID[:17] not in text and "3408" in text and "*" in text
    assert ID_AS_NUMBER in text and "王五" not in text  # only rejected rows


def test_the_reject_report_never_carries_a_formula():
    from io import BytesIO

    from openpyxl import load_workbook
    rows = [["姓名", "身份证号"], ['=HYPERLINK("http://x","点我")', "bad"]]
    data = rejects_xlsx(ELDERS, parse([Sheet("s", rows)], ELDERS).rows)
    cells = [c for r in load_workbook(BytesIO(data)).active.iter_rows() for c in r]
    assert not [c for c in cells if c.data_type == "f"]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in [c.value for c in cells]


def test_the_invisible_character_class_covers_every_control_and_format_character():
    import unicodedata
    invisible = [chr(c) for c in range(0x30000) if unicodedata.category(chr(c)) in ("Cc", "Cf") and chr(c) not in "\t\n\r"]
    assert [f"U+{ord(ch):04X}" for ch in invisible if n.clean(f"a{ch}b") != "ab"] == []

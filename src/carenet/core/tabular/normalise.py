"""Cell normalisers: raw spreadsheet cell in, clean value out, or CellError with a message for staff. No Django.

Each normaliser has the signature `fn(value, column) -> value` and is picked by `Column.kind`. A blank cell never
reaches a normaliser (it becomes None). Messages are Chinese and say what to do.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from carenet.core import idcard
from carenet.core.tabular.read import excel_serial_to_date


class CellError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


ID_AS_NUMBER = "身份证号被存成了数字，最后几位已丢失；请把该列设为文本后重新导出"

# Full-width ASCII (！ to ～) folds to ASCII; the ideographic space to a space.
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_WIDTH[0x3000] = 0x20
_WIDTH_ALNUM = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
_WIDTH_ALNUM[0x3000] = 0x20
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f]+")


def fold_width(text: str, everything: bool = False) -> str:
    """Full-width digits and letters to ASCII (all full-width ASCII punctuation too when `everything`)."""
    return text.translate(_WIDTH if everything else _WIDTH_ALNUM)


# Control (Cc) and format (Cf: zero-width spaces, direction marks, BOM…) characters, except tab and line breaks
# (which become spaces). Generated from the Unicode 14 database (unicodedata.category in Cc, Cf);
# tests/core/test_tabular.py checks it against the running Python's database.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


def clean(text: str) -> str:
    """Invisible characters removed, full-width digits/letters folded, runs of spaces made one, ends trimmed."""
    if not text.isascii():
        text = fold_width(_CONTROL.sub("", text))
    elif not text.isprintable():
        text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        stripped = value.strip()
        return not stripped or (len(stripped) <= 4 and not clean(stripped))
    return False


def as_text(value) -> str:
    """A raw cell as the text a person sees in Excel (integers without '.0', dates as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return clean(str(value))


def text(value, column=None) -> str:
    return as_text(value)


def code(value, column=None) -> str:
    """Codes (division codes, unified credit codes…): no spaces at all, full-width punctuation folded, upper case."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError(f"{_label(column)}“{as_text(value)}”不是有效的代码")
    return re.sub(r"\s+", "", fold_width(as_text(value), everything=True)).upper()


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.I)


def id_number(value, column=None) -> str:
    """An 18-character resident ID number, validated (check character, birth date). Never repairs lost digits."""
    if isinstance(value, bool):
        raise CellError(f"{_label(column, '身份证号')}无效")
    if isinstance(value, float):
        if abs(value) >= 1e14:  # Excel kept 15 significant digits of an 18-digit number
            raise CellError(ID_AS_NUMBER)
        value = as_text(value)
    elif isinstance(value, int):
        text_ = str(value)
        if len(text_) > 15:
            try:  # an exact integer written by a program (not Excel): accept it only if it is a valid number
                return idcard.parse(text_).number
            except idcard.IdNumberError:
                raise CellError(ID_AS_NUMBER) from None
        value = text_
    number = re.sub(r"[\s\-']+", "", fold_width(clean(str(value)), everything=True)).upper()
    if _SCIENTIFIC.match(number):  # 3.40899E+17 as Excel writes a number into a CSV
        raise CellError(ID_AS_NUMBER)
    try:
        return idcard.parse(number).number
    except idcard.IdNumberError as exc:
        stripped = number.rstrip("0")
        if number.isdigit() and 15 < len(number) <= 18 and len(stripped) <= 15 and len(stripped) < len(number):
            # 340899196402021000: fifteen significant digits then zeros, exactly what Excel leaves of a number.
            raise CellError(ID_AS_NUMBER) from None
        raise CellError(exc.message) from None


def phone(value, column=None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    number = re.sub(r"[\s\-—－]+", "", fold_width(as_text(value), everything=True))
    if not re.fullmatch(r"[\d+()/,、;转#*]{5,40}", number) or not re.search(r"\d{5,}", number):
        raise CellError(f"{_label(column, '联系电话')}“{as_text(value)}”不是电话号码")
    return number


@dataclass(frozen=True)
class YearMonth:
    """出生年月 columns often hold only a year and a month."""
    year: int
    month: int

    def matches(self, date: dt.date) -> bool:
        return (date.year, date.month) == (self.year, self.month)

    def __str__(self):
        return f"{self.year}-{self.month:02d}"


_DATE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(\s+\d{1,2}:\d{2}(:\d{2})?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?$")
_COMPACT_MONTH = re.compile(r"^(\d{4})(\d{2})$")


def _date_or_month(value, column, allow_month: bool):
    label = _label(column, "日期")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            value = str(int(value))  # 19640202 typed as a number
        elif allow_month and float(value).is_integer() and 190001 <= value <= 210012:
            value = str(int(value))
        elif 1 <= value < 73051:  # an Excel serial day (up to 2099-12-31) in a cell not formatted as a date
            return excel_serial_to_date(value)
        else:
            raise CellError(f"{label}“{as_text(value)}”不是有效日期（例如 1964-02-02）")
    raw = fold_width(as_text(value), everything=True)
    for pattern in (_DATE, _COMPACT):
        m = pattern.match(raw)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise CellError(f"{label}“{raw}”不存在（请检查月份和日）") from None
    if allow_month:
        for pattern in (_MONTH, _COMPACT_MONTH):
            m = pattern.match(raw)
            if m and 1 <= int(m.group(2)) <= 12:
                return YearMonth(int(m.group(1)), int(m.group(2)))
    if re.fullmatch(r"\d+(\.\d+)?", raw) and 1 <= float(raw) < 73051 and "." not in raw:
        return excel_serial_to_date(float(raw))  # a serial day written out as text (CSV exports)
    raise CellError(f"{label}“{raw}”不是有效日期（例如 1964-02-02、1964.2.2 或 1964年2月2日）")


def date(value, column=None) -> dt.date:
    return _date_or_month(value, column, allow_month=False)


def date_or_month(value, column=None) -> dt.date | YearMonth:
    """A full date, or only a year and month (出生年月: 1964.02, 1964年2月)."""
    return _date_or_month(value, column, allow_month=True)


SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F", "男性": "M", "女性": "F", "MALE": "M",
       "FEMALE": "F"}


def sex(value, column=None) -> str:
    raw = as_text(value).replace(" ", "").upper()
    if raw not in SEX:
        raise CellError(f"{_label(column, '性别')}应为 男/女（也可写 M/F 或 1/2），实际为“{as_text(value)}”")
    return SEX[raw]


def integer(value, column=None) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raw = fold_width(as_text(value), everything=True).replace(",", "")
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    raise CellError(f"{_label(column)}应为整数，实际为“{as_text(value)}”")


def decimal(value, column=None) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raw = fold_width(as_text(value), everything=True).replace(",", "").removesuffix("元")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise CellError(f"{_label(column)}应为数字，实际为“{as_text(value)}”") from None


YES = {"是", "有", "Y", "YES", "TRUE", "1", "√", "✓"}
NO = {"否", "无", "N", "NO", "FALSE", "0", "×", "✗"}


def boolean(value, column=None) -> bool:
    if isinstance(value, bool):
        return value
    raw = fold_width(as_text(value), everything=True).upper()
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellError(f"{_label(column)}应为“是”或“否”，实际为“{as_text(value)}”")


def choice(value, column) -> str:
    """One of `column.choices` (label → stored value); labels are compared without spaces."""
    raw = as_text(value).replace(" ", "")
    for label, stored in column.choices.items():
        if raw == label.replace(" ", "") or raw == str(stored):
            return stored
    first: dict = {}
    for label, stored in column.choices.items():  # several names for one value: offer the first (the usual one)
        first.setdefault(stored, label)
    raise CellError(f"{_label(column)}“{as_text(value)}”无效，可选：{'、'.join(first.values())}")


def choices(value, column) -> list:
    """Several of `column.choices`, separated by 、，,; or spaces."""
    out = []
    for part in re.split(r"[、，,;；/\s]+", as_text(value)):
        if part:
            item = choice(part, column)
            if item not in out:
                out.append(item)
    return out


def _label(column, default: str = "") -> str:
    return getattr(column, "label", None) or default


KINDS = {
    "text": text, "code": code, "id_number": id_number, "phone": phone, "date": date,
    "date_or_month": date_or_month, "sex": sex, "int": integer, "decimal": decimal, "bool": boolean,
    "choice": choice, "choices": choices,
}

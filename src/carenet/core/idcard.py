"""Resident identity card numbers (GB 11643-1999). Pure Python, no Django.

An 18-character number: 6-digit region code, 8-digit birth date, 3-digit sequence
(odd for men, even for women) and a check character computed with ISO 7064 MOD 11-2.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdNumberError(ValueError):
    """A specific, human-readable reason why an ID number is not valid.

    `message` is the Simplified Chinese text staff see; `message_en` the English one (the engine has no
    gettext: Django code picks by the active language with `text(language)`)."""

    def __init__(self, code: str, message: str, message_en: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_en = message_en or message

    def text(self, language: str | None) -> str:
        return self.message_en if (language or "").startswith("en") else self.message


@dataclass(frozen=True)
class ParsedId:
    number: str
    region: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def parse(raw: str, today: dt.date | None = None) -> ParsedId:
    """Validate and decompose an ID number, raising IdNumberError with the precise reason."""
    number = normalize(raw)
    if not number:
        raise IdNumberError("id_missing", "身份证号为空", "ID number is missing")
    if len(number) != 18:
        raise IdNumberError("id_length", f"身份证号应为18位，实际{len(number)}位", f"ID number must have 18 characters, got {len(number)}")
    if not _SHAPE.match(number):
        raise IdNumberError("id_chars", "身份证号只能包含数字，末位可为X", "Only digits, last may be X")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_birth", f"身份证号中的出生日期{number[6:14]}无效", "Invalid birth date in ID number") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1880:
        raise IdNumberError("id_birth", f"身份证号中的出生日期{birth.isoformat()}不合理", "Implausible birth date")
    expected = check_char(number[:17])
    if number[17] != expected:
        raise IdNumberError(
            "id_check",
            f"身份证号校验码错误：末位应为{expected}，实际为{number[17]}", f"Bad check character: expected {expected}",
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ParsedId(number=number, region=number[:6], birth_date=birth, sex=sex)


def cross_check(parsed: ParsedId, sex: str | None, birth_date: dt.date | None) -> list[IdNumberError]:
    """Compare declared sex and birth date with those encoded in the ID number."""
    problems = []
    if sex and sex != parsed.sex:
        problems.append(IdNumberError("id_sex", "性别与身份证号不符", "Sex does not match the ID number"))
    if birth_date and birth_date != parsed.birth_date:
        problems.append(
            IdNumberError("id_birth_mismatch", f"出生日期与身份证号不符，身份证号为{parsed.birth_date.isoformat()}", "Birth date does not match the ID number")
        )
    return problems


def make(region: str, birth: dt.date, seq: int) -> str:
    """Build a valid number (used by the synthetic district generator and tests)."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def mask(number: str) -> str:
    """3408**********1234: the first four and last four characters stay visible."""
    number = normalize(number)
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]

"""Chinese-aware normalisation of identity fields, before any comparison. Pure Python, no Django.

Each input record (record_id,name,id_number,birth_date,sex,division_code,address,phone; any may be empty)
becomes a row of derived columns that the comparisons in `model.py` use:

- id18: the ID number as 18 characters (full-width digits, lower-case x and spaces fixed; a legacy
  15-digit number converted by inserting 19 and computing the check character), id17 its first 17
  characters (a wrong check character is then a typo, not another person), id_ok whether the check
  character is right; id_tail the day of birth and sequence (a blocking key that survives a typo in
  the year or month);
- name_s: the name in simplified characters (OpenCC t2s) without spaces or dots; name_py its pinyin
  without tones (homophones agree: 张丽华 = 张利华 = zhang li hua); name_fz a "fuzzy" pinyin folding the
  sounds southern speakers and clerks confuse (zh/z, ch/c, sh/s, n/l, r/l, f/h, -ng/-n), so near-homophones
  agree; surname_fz the first syllable of it;
- dob: the stated birth date, else the one in the ID number; dob_id the one in the ID number (so a stated
  date can be checked against the other record's ID);
- sex: stated, else from the ID number (odd sequence = man);
- div12/div9/div6: village/community, township/street and county codes; addr: simplified address without
  spaces; phone: the last 11 digits.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin
from stdnum.cn import ric

_t2s = OpenCC("t2s")
_NOT_NAME = re.compile(r"[\s·•．.\u200b\u3000]+")
_DIGITS = re.compile(r"\D+")
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("f", "h"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))

FEATURE_COLUMNS = ["unique_id", "name_s", "name_py", "name_fz", "surname_fz", "id18", "id17", "id_tail", "id_ok",
                   "dob", "dob_id", "sex", "div12", "div9", "div6", "addr", "phone"]


def _clean(value) -> str:
    if value is None:
        return ""
    s = unicodedata.normalize("NFKC", str(value))  # full-width digits and letters become ASCII
    return s.replace("\u200b", "").replace("\ufeff", "").strip()


def fuzzy_syllable(p: str) -> str:
    for a, b in _FUZZY_INITIALS:
        if p.startswith(a):
            p = b + p[len(a):]
            break
    for a, b in _FUZZY_FINALS:
        if p.endswith(a):
            p = p[: -len(a)] + b
            break
    return p


@lru_cache(maxsize=50_000)
def _char_is_simplified(c: str) -> bool:
    return _t2s.convert(c) == c


def to_simplified(text: str) -> str:
    """OpenCC t2s, skipped when no character converts on its own (most names and addresses: OpenCC's
    pure-Python converter is the slowest step of the features at a million records)."""
    if all(_char_is_simplified(c) for c in text):
        return text
    return _t2s.convert(text)


@lru_cache(maxsize=200_000)
def _pinyin(part: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(part, style=Style.NORMAL, errors="default"))


@lru_cache(maxsize=500_000)
def name_forms(raw: str) -> tuple[str, str, str, str]:
    """(simplified, pinyin, fuzzy pinyin, fuzzy surname) for a name; empty strings when there is none."""
    s = to_simplified(_NOT_NAME.sub("", raw))
    if not s:
        return "", "", "", ""
    # surname and given name apart: far fewer distinct parts than distinct names to convert
    syll = list(_pinyin(s[0]) + _pinyin(s[1:])) if len(s) > 1 else list(_pinyin(s))
    fz = [fuzzy_syllable(p.lower()) for p in syll]
    # 复姓 are rare; the first syllable is a good enough surname key for blocking.
    return s, " ".join(p.lower() for p in syll), " ".join(fz), fz[0]


def check_char(first17: str) -> str:
    # stdnum takes the whole number (its last character is ignored)
    return ric.calc_check_digit(first17 + "0")


def id_forms(raw: str) -> tuple[str, str, bool]:
    """(id18, id17, check character right). 15-digit numbers are converted; other shapes give empties."""
    s = _clean(raw).upper().replace(" ", "")
    if len(s) == 15 and s.isdigit():
        first17 = s[:6] + "19" + s[6:]
        return first17 + check_char(first17), first17, True
    if len(s) == 18 and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X"):
        return s, s[:17], check_char(s[:17]) == s[17]
    return "", "", False


_DATE = re.compile(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})")


def parse_date(raw: str) -> str:
    s = _clean(raw)
    m = _DATE.match(s)
    if not m:
        return ""
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return ""


def dob_from_id(id17: str) -> str:
    if not id17:
        return ""
    try:
        return dt.date(int(id17[6:10]), int(id17[10:12]), int(id17[12:14])).isoformat()
    except ValueError:
        return ""


def sex_of(raw: str, id17: str) -> str:
    s = _clean(raw).upper()
    if s in ("男", "M", "1", "MALE"):
        return "M"
    if s in ("女", "F", "2", "FEMALE"):
        return "F"
    if id17:
        return "M" if int(id17[16]) % 2 else "F"
    return ""


@lru_cache(maxsize=200_000)
def address_form(raw: str) -> str:
    return to_simplified(_NOT_NAME.sub("", _clean(raw)))


def phone_form(raw: str) -> str:
    d = _DIGITS.sub("", _clean(raw))
    if d.startswith("86") and len(d) == 13:
        d = d[2:]
    return d[-11:] if len(d) >= 7 else ""


def features(rec: dict) -> dict:
    name_s, name_py, name_fz, surname_fz = name_forms(_clean(rec.get("name")))
    id18, id17, id_ok = id_forms(rec.get("id_number"))
    dob_id = dob_from_id(id17)
    div = _DIGITS.sub("", _clean(rec.get("division_code")))
    return {
        "unique_id": str(rec["record_id"]),
        "name_s": name_s or None, "name_py": name_py or None, "name_fz": name_fz or None,
        "surname_fz": surname_fz or None,
        "id18": id18 or None, "id17": id17 or None, "id_tail": id17[-5:] or None, "id_ok": id_ok,
        "dob": parse_date(rec.get("birth_date")) or dob_id or None, "dob_id": dob_id or None,
        "sex": sex_of(rec.get("sex"), id17) or None,
        "div12": div[:12] if len(div) >= 12 else None, "div9": div[:9] if len(div) >= 9 else None,
        "div6": div[:6] if len(div) >= 6 else None,
        "addr": address_form(_clean(rec.get("address"))) or None,
        "phone": phone_form(rec.get("phone")) or None,
    }


def feature_table(records):
    """A pyarrow table of features for an iterable of records (dicts)."""
    import pyarrow as pa

    cols: dict[str, list] = {c: [] for c in FEATURE_COLUMNS}
    for rec in records:
        f = features(rec)
        for c in FEATURE_COLUMNS:
            cols[c].append(f[c])
    return pa.table(cols)

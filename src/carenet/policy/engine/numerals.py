"""Chinese numerals as used in article numbers (第一千二百六十条) <-> int."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

CHINESE_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral (up to 9999) to int.

    >>> cn_to_int("十二"), cn_to_int("一百零五"), cn_to_int("一千二百六十")
    (12, 105, 1260)
    """
    if not text:
        raise ValueError("empty numeral")
    if text.isdigit():
        return int(text)
    total = 0
    current = 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if current == 0 and unit == 10:
                current = 1  # "十二" means 12
            total += current * unit
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


def int_to_cn(n: int) -> str:
    """Convert 1..9999 to the Chinese numeral used in article numbers.

    >>> int_to_cn(12), int_to_cn(105), int_to_cn(1260), int_to_cn(110)
    ('十二', '一百零五', '一千二百六十', '一百一十')
    """
    if n <= 0 or n > 9999:
        raise ValueError(f"out of range: {n}")
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    zero_pending = False
    for value, name in units:
        d = (n // value) % 10
        if d == 0:
            if parts:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        if value == 10 and d == 1 and not parts:
            parts.append("十")
        else:
            parts.append(digits[d] + name)
    return "".join(parts)

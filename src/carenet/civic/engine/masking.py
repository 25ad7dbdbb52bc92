"""Masking personal data on the public 晒单 page."""
from __future__ import annotations

import re

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_name(name: str) -> str:
    """王小明 → 王**, 李四 → 李*; an empty name stays empty."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_text(text: str, names: tuple[str, ...] = ()) -> str:
    """Phone and ID numbers in free text masked, and each given name replaced by its masked form."""
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text or "")
    text = PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text

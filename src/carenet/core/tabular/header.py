"""Finding the header row and matching column names through aliases. No Django."""
from __future__ import annotations

import hashlib
import re

from carenet.core.tabular.normalise import as_text, fold_width

HEADER_SCAN = 15  # the header is looked for in the first rows (title rows, notes and blank rows are skipped)

# Names the bureaus' registers use for the same column. Keys are the canonical labels importers declare;
# an importer can add its own aliases on its Column.
ALIASES: dict[str, tuple[str, ...]] = {
    "姓名": ("老人姓名", "名字", "人员姓名", "成员姓名", "被救助人姓名", "申请人姓名"),
    "性别": ("性 别",),
    "身份证号": ("身份证号码", "公民身份号码", "证件号码", "身份证", "公民身份证号", "公民身份证号码", "身份证件号码",
              "证件号", "居民身份证号码", "身份证件号"),
    "联系电话": ("联系方式", "手机号", "手机号码", "电话", "电话号码", "本人电话", "手机", "联系电话(手机)"),
    "出生日期": ("出生年月", "出生年月日", "生日", "出生时间"),
    "所属社区": ("社区", "村(居)", "所在社区", "社区(村)", "村居", "所属村(居)", "社区名称", "村(社区)", "所属村居",
             "社区/村", "村/社区", "所在村(居)"),
    "所属街道": ("街道", "乡镇(街道)", "街道(乡镇)", "乡镇", "所属乡镇", "镇(街)"),
    "区划代码": ("行政区划代码", "区划编码", "社区代码", "村(居)代码"),
    "住址": ("家庭住址", "现住址", "居住地址", "地址", "详细地址", "现居住地址", "户籍地址"),
    "紧急联系人": ("紧急联系人姓名", "联系人", "联系人姓名"),
    "紧急联系人电话": ("紧急联系电话", "联系人电话", "紧急联系人手机"),
    "紧急联系人关系": ("与老人关系", "联系人关系", "紧急联系人与老人关系"),
    "民族": ("民 族",),
}

_NOTE = re.compile(r"\((必填|选填|必须|可选|可不填|非必填|[^()]*格式[^()]*|[^()]*如[^()]*)\)$")


def header_key(value) -> str:
    """A header cell as compared: full-width folded, no spaces or line breaks, no '*' marks, ASCII brackets."""
    text = fold_width(as_text(value), everything=True)
    text = text.replace("【", "(").replace("】", ")").replace("［", "(").replace("］", ")")
    return re.sub(r"[\s*※:：]+", "", text).lower()


def _stripped(key: str) -> str:
    return _NOTE.sub("", key)


class AliasTable:
    """Header text → column key, for one schema (labels, its own aliases, the shared ALIASES)."""

    def __init__(self, columns):
        self.by_key: dict[str, str] = {}
        for col in columns:  # labels first: an alias never shadows another column's label
            self.by_key.setdefault(header_key(col.label), col.key)
        for col in columns:
            for alias in (*col.aliases, *ALIASES.get(col.label, ())):
                self.by_key.setdefault(header_key(alias), col.key)

    def match(self, header) -> str | None:
        key = header_key(header)
        if not key:
            return None
        return self.by_key.get(key) or self.by_key.get(_stripped(key))


def _row_score(row, table: AliasTable, saved: dict) -> int:
    return sum(1 for v in row if header_key(v) and (header_key(v) in saved or table.match(v)))


def _texts(row) -> list[str]:
    return [as_text(v) for v in row]


def find_header(rows: list[list], table: AliasTable, saved: dict | None = None) -> tuple[int, list[str], int] | None:
    """(index of the header row, header texts per column, index of the first data row), or None.

    The header is the row among the first HEADER_SCAN that names most known columns; title rows (one merged cell
    with the register's name), notes and blank rows score nothing. A two-level header (a merged parent cell such as
    紧急联系人 over 姓名 | 电话) is read as parent+child. With no known name at all (a new source), the header is the
    first row that is mostly text and as wide as the table.
    """
    saved = {header_key(k): v for k, v in (saved or {}).items()}
    scan = rows[:HEADER_SCAN]
    if not scan:
        return None
    scores = [_row_score(r, table, saved) for r in scan]
    best = max(range(len(scan)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        width = max(sum(1 for v in r if not _blankish(v)) for r in scan)
        for i, r in enumerate(scan):
            filled = [v for v in r if not _blankish(v)]
            if len(filled) >= max(2, width * 0.6) and all(isinstance(v, str) and not _NUMERIC.match(v.strip())
                                                          for v in filled):
                return i, _texts(r), i + 1
        return None
    headers = _texts(scan[best])
    start = best + 1
    if start < len(rows):
        combined = _two_level(headers, rows[start])
        if combined and _row_score(combined, table, saved) > scores[best]:
            headers, start = combined, start + 1
    return best, headers, start


_NUMERIC = re.compile(r"^[\d.,:/\-+eE ]+$")


def _blankish(v) -> bool:
    return v is None or not as_text(v)


def _two_level(parent: list[str], child_row: list) -> list[str] | None:
    child = [as_text(v) for v in child_row]
    if not any(child) or any(v is not None and not isinstance(v, str) for v in child_row):
        return None
    width = max(len(parent), len(child))
    parent = parent + [""] * (width - len(parent))
    child = child + [""] * (width - len(child))
    # A merged parent cell has its text in its first column only: carry it right over the empty ones below
    # which the child row has text.
    filled, current, spans_children = [], "", False
    for p, c in zip(parent, child):
        if p:
            current = p
        elif not c:
            current = ""
        filled.append(current)
        spans_children |= (not p and bool(c))
    if not spans_children:
        return None
    return [(f + c if f and c and f != c else (c or f)) for f, c in zip(filled, child)]


def signature(headers: list[str]) -> str:
    """Identifies a source's layout: the same export from the same system gives the same signature."""
    keys = [header_key(h) for h in headers if header_key(h)]
    return hashlib.sha256("|".join(keys).encode()).hexdigest()[:32]

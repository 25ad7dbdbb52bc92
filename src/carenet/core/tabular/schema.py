"""What an importer declares (columns) and what the pipeline gives back (rows as understood). No Django."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from carenet.core.tabular import normalise
from carenet.core.tabular.header import AliasTable, find_header, header_key, signature
from carenet.core.tabular.normalise import CellError, as_text, is_blank
from carenet.core.tabular.read import FileError, Sheet, fill_down

IGNORE = ""  # a mapping value: this header is deliberately not imported


@dataclass(frozen=True)
class Column:
    key: str                      # the name the importer's code uses: row["id_number"]
    label: str                    # the header in the template, in Chinese: 身份证号
    kind: str = "text"            # picks the normaliser: see normalise.KINDS (and "division" in core.imports)
    required: bool = False
    aliases: tuple[str, ...] = () # more header names for this column (the shared ALIASES apply as well)
    choices: dict | None = None   # label → stored value, for kind "choice" / "choices"
    from_sheet_name: bool = False # absent column: take the sheet's name (one sheet per community)
    mask: bool = False            # mask in previews and reports (always on for kind "id_number")
    unique: bool = False          # a value may appear only once in the file (across sheets)
    params: dict = field(default_factory=dict, hash=False, compare=False)  # extra settings for a normaliser

    @property
    def masked(self) -> bool:
        return self.mask or self.kind == "id_number"


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]
    max_rows: int = 20000

    def __post_init__(self):
        object.__setattr__(self, "columns", tuple(self.columns))
        keys = [c.key for c in self.columns]
        assert len(keys) == len(set(keys)), "column keys must be unique"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]


@dataclass
class Layout:
    """How one sheet was understood: where its header is and which of its columns feed which field."""
    sheet: str
    header_row: int                  # as Excel numbers rows (1-based)
    first_data_row: int              # 1-based
    headers: list[str]               # header text per column of the sheet
    fields: dict[int, str]           # column index → column key
    signature: str
    missing: list[str] = field(default_factory=list)     # labels of required columns not found
    unmatched: list[str] = field(default_factory=list)   # header texts that feed nothing (and were not ignored)
    from_saved: bool = False                              # a saved mapping for this source was applied

    def mapping(self) -> dict[str, str]:
        """header text → column key ("" for ignored), the form saved per source."""
        out = {h: IGNORE for h in self.headers if h}
        for i, key in self.fields.items():
            out[self.headers[i]] = key
        return out


@dataclass
class Row:
    sheet: str
    number: int                                      # the row number Excel shows
    values: dict[str, Any] = field(default_factory=dict)   # column key → clean value (None when blank)
    raw: dict[str, str] = field(default_factory=dict)      # column key → the cell as text, for the reject report
    errors: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)     # for the importer: anything its validate() prepares

    def __getitem__(self, key):
        return self.values.get(key)

    def get(self, key, default=None):
        value = self.values.get(key)
        return default if value is None else value

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Parsed:
    layouts: list[Layout]
    rows: list[Row]
    skipped_sheets: list[str] = field(default_factory=list)  # sheets with no recognisable header

    @property
    def accepted(self) -> list[Row]:
        return [r for r in self.rows if r.ok]

    @property
    def rejected(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    @property
    def missing(self) -> list[str]:
        return sorted({m for lay in self.layouts for m in lay.missing})


class MappingNeeded(FileError):
    """Some required columns were not recognised: the staff must map them (the mapping screen)."""

    def __init__(self, message: str, layouts: list[Layout]):
        super().__init__(message)
        self.layouts = layouts


def layout(sheet: Sheet, schema: Schema, saved: dict[str, str] | None = None) -> Layout | None:
    """Find the header of a sheet and map its columns: a saved mapping for this source first, then aliases."""
    table = AliasTable(schema.columns)
    found = find_header(sheet.rows, table, saved)
    if found is None:
        return None
    index, headers, start = found
    saved_keys = {header_key(h): k for h, k in (saved or {}).items()}
    known = {c.key for c in schema.columns}
    fields, unmatched, used_saved = {}, [], False
    for i, h in enumerate(headers):
        hk = header_key(h)
        if not hk:
            continue
        if hk in saved_keys:
            used_saved = True
            if saved_keys[hk] in known:
                fields[i] = saved_keys[hk]
            continue
        key = table.match(h)
        if key:
            fields[i] = key
        else:
            unmatched.append(h)
    present = set(fields.values())
    missing = [c.label for c in schema.columns if c.required and c.key not in present and not c.from_sheet_name]
    return Layout(sheet.name, index + 1, start + 1, headers, fields, signature(headers), missing, unmatched,
                  used_saved)


def parse(sheets: list[Sheet], schema: Schema, saved: dict[str, str] | None = None, *,
          kinds: dict[str, Callable] | None = None, require_mapping: bool = True) -> Parsed:
    """Every data row of every sheet with a header, normalised. Raises FileError when nothing can be read and
    MappingNeeded when a required column is not found (unless require_mapping is False, for the preview)."""
    kinds = {**normalise.KINDS, **(kinds or {})}
    layouts, skipped = [], []
    for sheet in sheets:
        lay = layout(sheet, schema, saved)
        (layouts.append(lay) if lay else skipped.append(sheet.name))
    if not layouts:
        raise FileError(f"没有找到表头。请确认前 15 行内有一行列名（如：{'、'.join(schema.labels[:4])}）。")
    if require_mapping and any(lay.missing for lay in layouts):
        missing = sorted({m for lay in layouts for m in lay.missing})
        raise MappingNeeded(f"表头缺少列：{'、'.join(missing)}。请在“对应列”页面选择它们对应文件中的哪一列。", layouts)
    by_name = {s.name: s for s in sheets}
    rows: list[Row] = []
    seen: dict[tuple[str, Any], Row] = {}
    unique = [c for c in schema.columns if c.unique]
    for lay in layouts:
        sheet = by_name[lay.sheet]
        fill_down(sheet.rows, [m for m in sheet.merged if m[0] >= lay.first_data_row - 1])
        order = _column_order(lay, schema)
        heads = {as_text(lay.headers[i]) for i in lay.fields}
        for offset, cells in enumerate(sheet.rows[lay.first_data_row - 1:]):
            if all(is_blank(v) for v in cells):
                continue
            row = Row(lay.sheet, lay.first_data_row + offset)
            for col in schema.columns:
                value = None
                for i in order.get(col.key, ()):
                    if i < len(cells) and not is_blank(cells[i]):
                        value = cells[i]
                        break
                if value is None and col.from_sheet_name and col.key not in order:
                    value = lay.sheet
                row.raw[col.key] = as_text(value)
                if value is None:
                    row.values[col.key] = None
                    if col.required:
                        row.error(f"缺少必填项：{col.label}")
                    continue
                try:
                    row.values[col.key] = kinds[col.kind](value, col)
                except CellError as exc:
                    row.values[col.key] = None
                    row.error(exc.message)
            texts = {t for t in row.raw.values() if t}
            if len(texts) >= 2 and texts <= heads:
                continue  # a header repeated further down (sheets pasted one under another)
            for col in unique:
                value = row.values.get(col.key)
                if value is None:
                    continue
                first = seen.setdefault((col.key, str(value)), row)
                if first is not row:
                    where = f"第{first.number}行" if first.sheet == row.sheet else f"工作表“{first.sheet}”第{first.number}行"
                    row.error(f"{col.label}与{where}重复")
            rows.append(row)
            if len(rows) > schema.max_rows:
                raise FileError(f"一次最多导入 {schema.max_rows} 行，请分批导入。")
    return Parsed(layouts, rows, skipped)


def _column_order(lay: Layout, schema: Schema) -> dict[str, list[int]]:
    """Column key → the sheet columns that feed it, the one named like the label first."""
    out: dict[str, list[int]] = {}
    labels = {c.key: header_key(c.label) for c in schema.columns}
    for i, key in sorted(lay.fields.items(), key=lambda kv: (header_key(lay.headers[kv[0]]) != labels[kv[1]], kv[0])):
        out.setdefault(key, []).append(i)
    return out

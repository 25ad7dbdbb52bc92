"""Read a spreadsheet upload (.xlsx, .xls, .csv) into plain sheets of raw cell values. No Django.

Cells keep the type the file gave them (str, int, float, datetime, bool, None): the normalisers need to know
that an ID number arrived as a float to say its last digits are lost.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

MAX_CELLS = 2_000_000  # about 20,000 rows of 100 columns; beyond that the upload is refused, not truncated


class FileError(ValueError):
    """The file as a whole cannot be read. The message says what to do, in Chinese."""


@dataclass
class Sheet:
    name: str
    rows: list[list] = field(default_factory=list)
    # Merged ranges (first row, last row, first column, last column; 0-based, inclusive). Those that start in the
    # data rows are filled down by schema.parse once the header is known (fill_down).
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_file(data: bytes, filename: str = "") -> list[Sheet]:
    """Every non-empty sheet of the upload, in order. Raises FileError with a message for staff."""
    if not data:
        raise FileError("文件是空的，请重新选择文件。")
    name = filename.lower()
    if data.startswith(XLSX_MAGIC):
        sheets = _read_xlsx(data)
    elif data.startswith(OLE_MAGIC):
        sheets = _read_xls(data)
    elif data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise FileError("这个文件是网页（HTML）格式，只是扩展名为 .xls。请用 Excel 或 WPS 打开后“另存为” .xlsx 再上传。")
    elif name.endswith((".csv", ".txt")) or not name.endswith((".xlsx", ".xls", ".et", ".xlsm")):
        sheets = [_read_csv(data)]
    else:
        raise FileError("无法读取这个文件：它不是有效的 Excel 文件。请上传 .xlsx、.xls 或 .csv 文件。")
    sheets = [s for s in sheets if any(_filled(r) for r in s.rows)]
    if not sheets:
        raise FileError("文件里没有数据。")
    if sum(len(r) for s in sheets for r in s.rows) > MAX_CELLS:
        raise FileError("文件太大，请分批导入（每次不超过 2 万行）。")
    return sheets


def _filled(row) -> bool:
    return any(v is not None and str(v).strip() for v in row)


def _trim(rows: list[list]) -> list[list]:
    while rows and not _filled(rows[-1]):
        rows.pop()
    return rows


def _read_xlsx(data: bytes) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged or encrypted files
        raise FileError(f"无法读取这个 .xlsx 文件（{exc.__class__.__name__}）。如果文件设置了密码，请先取消密码；"
                        "否则请用 Excel 或 WPS 打开后重新保存。") from None
    sheets = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for ws in wb.worksheets:
                if getattr(ws, "sheet_state", "visible") != "visible":
                    continue
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
                sheets.append(Sheet(ws.title, _trim(rows), _xlsx_merged(archive, getattr(ws, "_worksheet_path", ""))))
    finally:
        wb.close()
    return sheets


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Za-z]+[0-9]+):([A-Za-z]+[0-9]+)"')


def _xlsx_merged(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a sheet as (first row, last row, first column, last column), 0-based and inclusive.
    The read-only reader does not give them; they are a list of <mergeCell ref="A3:A7"/> in the sheet's XML."""
    from openpyxl.utils.cell import range_boundaries

    try:
        xml = archive.read(path.lstrip("/"))
    except (KeyError, ValueError):
        return []
    out = []
    for first, last in _MERGE.findall(xml):
        min_col, min_row, max_col, max_row = range_boundaries(f"{first.decode()}:{last.decode()}")
        out.append((min_row - 1, max_row - 1, min_col - 1, max_col - 1))
    return out


def fill_down(rows: list[list], merged: list[tuple[int, int, int, int]]) -> None:
    """A cell merged over several rows (a 社区 written once for the five elders below it) holds its value only in
    its first row; every row of the range gets it, so no row reads as blank. Horizontal merges are left as they
    are. Called by schema.parse with the ranges that start at or below the first data row: merges in the title and
    header rows (a 序号 merged over a two-row header) are what the header finder reads, and stay as they are."""
    for top, bottom, left, _right in merged:
        if bottom <= top or top >= len(rows):
            continue
        head = rows[top]
        value = head[left] if left < len(head) else None
        if value is None:
            continue
        for r in range(top + 1, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= left:
                row.extend([None] * (left + 1 - len(row)))
            if row[left] is None or (isinstance(row[left], str) and not row[left].strip()):
                row[left] = value


def _read_xls(data: bytes) -> list[Sheet]:
    import xlrd

    try:
        try:  # formatting_info gives the merged ranges (BIFF8); a few odd writers' files only open without it
            book = xlrd.open_workbook(file_contents=data, on_demand=True, formatting_info=True)
        except Exception:
            book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:
        raise FileError(f"无法读取这个 .xls 文件（{exc.__class__.__name__}）。如果文件设置了密码，请先取消密码；"
                        "否则请用 Excel 或 WPS 打开后“另存为” .xlsx 再上传。") from None
    sheets = []
    try:
        for index in range(book.nsheets):
            sh = book.sheet_by_index(index)
            if getattr(sh, "visibility", 0):
                continue
            rows = []
            for r in range(sh.nrows):
                row = []
                for c in range(sh.ncols):
                    cell = sh.cell(r, c)
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        try:
                            row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                        except Exception:  # a date format on an impossible serial: keep the number
                            row.append(cell.value)
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        row.append(None)
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        row.append(bool(cell.value))
                    elif cell.ctype == xlrd.XL_CELL_ERROR:
                        row.append(None)
                    else:
                        row.append(cell.value)
                rows.append(row)
            merged = [(rlo, rhi - 1, clo, chi - 1) for rlo, rhi, clo, chi in getattr(sh, "merged_cells", [])]
            sheets.append(Sheet(sh.name, _trim(rows), merged))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return sheets


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or a Chinese legacy encoding (GBK/GB18030, Big5)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16_le", "utf_16_be"]).best()
    if best is None:
        raise FileError("无法识别这个文本文件的编码。请在 Excel 或 WPS 中“另存为” .xlsx，或保存为 UTF-8 编码的 CSV。")
    # GBK is a subset of GB18030: decode with the superset so rare characters in names survive.
    encoding = "gb18030" if best.encoding in ("gb2312", "gbk", "gb18030") else best.encoding
    return data.decode(encoding, errors="replace")


def _read_csv(data: bytes) -> Sheet:
    text = decode_text(data)
    if "\x00" in text:
        raise FileError("无法读取这个文件：它不是 .xlsx、.xls 或 .csv 表格。")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = [[c if c != "" else None for c in r] for r in csv.reader(io.StringIO(text), dialect)]
    return Sheet("CSV", _trim(rows))


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel's day number (1900 system, with its phantom 1900-02-29) as a date."""
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(serial))

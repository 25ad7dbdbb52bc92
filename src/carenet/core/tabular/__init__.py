"""The shared spreadsheet pipeline, pure part (no Django): read .xlsx/.xls/.csv, find the header, map columns
through aliases, normalise cells, keep row errors, write the reject report with ID numbers masked.

Django glue (saved mappings per source, preview, divisions, audit, all-or-nothing writes) is in core.imports.
See docs/import.md.
"""
from carenet.core.tabular.header import ALIASES, header_key, signature  # noqa: F401
from carenet.core.tabular.normalise import ID_AS_NUMBER, CellError, YearMonth  # noqa: F401
from carenet.core.tabular.read import FileError, Sheet, read_file  # noqa: F401
from carenet.core.tabular.report import rejects_xlsx  # noqa: F401
from carenet.core.tabular.schema import (IGNORE, Column, Layout, MappingNeeded, Parsed, Row, Schema,  # noqa: F401
                                         layout, parse)

"""The shared spreadsheet import pipeline, Django side. Every importer (elders, department datasets, facilities,
helpers, services) declares its columns and its checks; this module does the rest, the same way for all:

    upload → stage (encrypted) → header, saved mapping per source, aliases → preview of the rows as understood
    → (mapping screen when a required column is not recognised) → confirm → all valid rows written in one
    transaction, rejects in a downloadable report with ID numbers masked, the run audited.

The pure parts (reading, header detection, aliases, normalisers, report) are in core.tabular. See docs/import.md.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carenet.core import audit, idcard, import_jobs, pii
from carenet.core.import_jobs import Steps, claim, write_run
from carenet.core.models import AuditLog, ColumnMapping, Division, ImportRun, ImportUpload
from carenet.core.permissions import require
from carenet.core.tabular import (IGNORE, CellError, Column, FileError, Layout, MappingNeeded, Parsed, Row,
                                  Schema, YearMonth, layout, parse, read_file)
from carenet.core.tabular.header import header_key

__all__ = ["Column", "Schema", "Row", "Importer", "Context", "FileError", "MappingNeeded", "CellError", "register",
           "get", "stage", "preview", "save_mapping", "start", "execute", "run", "import_file"]

log = logging.getLogger(__name__)
STAGED_FOR = dt.timedelta(days=1)
PREVIEW_ROWS = 20


@dataclass
class Context:
    """What an importer's validate() and write() get besides the rows."""
    user: object
    importer: "Importer"
    filename: str = ""
    run: ImportRun | None = None      # set during write()
    today: dt.date = field(default_factory=timezone.localdate)
    params: dict = field(default_factory=dict)    # the importer's cleaned params (check_params), e.g. a source id
    outcome: dict = field(default_factory=dict)   # write() may leave ids here; kept on ImportRun.outcome


class Importer:
    """Subclass, set the attributes, override validate() and write(), and register() an instance in your app's
    AppConfig.ready(). The staff pages are then at /imports/<key>/."""

    key: str = ""          # "people.elders": URLs and saved mappings use it; never change it once used
    label: str = ""        # shown on staff pages, e.g. gettext_lazy("Elders")
    capability: str = ""   # who may import (core/roles.py)
    schema: Schema
    example: dict = {}     # column key → an example value, for the downloadable template
    back_url: str = ""     # where the staff came from (a URL name), for the pages' back link

    def validate(self, rows: list[Row], ctx: Context) -> None:
        """Check the normalised rows against the database and the rules: call row.error("…") on bad rows, and
        keep in row.data whatever write() needs. Query in bulk (one query for all rows), not per row."""

    def write(self, rows: list[Row], ctx: Context) -> None:
        """Write the rows that passed, through your app's services (each write audited). It runs inside one
        transaction with the others: raise to roll the whole import back."""
        raise NotImplementedError

    def check_params(self, user, params: dict) -> dict:
        """Clean the upload page's query parameters (e.g. ?source=12) for this user; raise FileError (or Denied)
        to refuse. Called when the file is staged and again when the job runs. Unknown parameters are dropped."""
        return {}

    def mapping_scope(self, params: dict) -> str:
        """Saved column mappings are kept per (importer, scope, header signature): return e.g. "source:12" to keep
        one department source's choices apart from another's with the same headers."""
        return ""

    def result_url(self, run: ImportRun) -> str:
        """A page to show after the import (the result page links to it), e.g. the load it created."""
        return ""

    def display(self, row: Row, column: Column) -> str:
        """A normalised value as the preview shows it (ID numbers masked)."""
        return display_value(row.values.get(column.key), column)


_REGISTRY: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    assert importer.key and importer.capability and importer.schema, "an importer needs key, capability, schema"
    _REGISTRY[importer.key] = importer
    return importer


def get(key: str) -> Importer | None:
    return _REGISTRY.get(key)


def available(caps) -> list[Importer]:
    """The importers a holder of these capabilities may use (the /imports/ page and the menu)."""
    return sorted((i for i in _REGISTRY.values() if i.capability in caps), key=lambda i: i.key)


def display_value(value, column: Column) -> str:
    if value is None:
        return ""
    if column.masked:
        return idcard.mask(str(value))
    if isinstance(value, Division):
        return value.name
    if isinstance(value, list) and value and isinstance(value[0], Division):
        return "、".join(d.name for d in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, YearMonth)):
        return str(value)
    if column.choices:
        labels: dict = {}
        for k, v in column.choices.items():  # the first of several names for a value is the usual one
            labels.setdefault(v, k)
        if isinstance(value, list):
            return "、".join(labels.get(v, str(v)) for v in value)
        return labels.get(value, str(value))
    return str(value)


# --- divisions: codes or names ------------------------------------------------------------------------------

class DivisionLookup:
    """The normaliser for kind="division": a division code, a name (银湖社区) or street+name (银湖街道银湖社区),
    resolved within the user's area. Column.params["min_level"] (a Division.Level) refuses coarser divisions."""

    SUFFIXES = ("居民委员会", "村民委员会", "居委会", "村委会")
    LEVELS = {1: "区/县", 2: "街道/乡镇", 3: "社区/村", 4: "网格"}  # row messages are Chinese whatever the UI language

    def __init__(self, user):
        self.user = user
        self.by_code: dict[str, Division] = {}
        self.by_name: dict[str, list[Division]] = {}
        divisions = list(Division.objects.select_related("parent"))
        for d in divisions:
            self.by_code[d.code] = d
            for name in {d.name, (d.parent.name + d.name) if d.parent else d.name}:
                self.by_name.setdefault(header_key(name), []).append(d)

    def visible(self, d: Division) -> bool:
        from carenet.core.scoping import path_visible_to
        return path_visible_to(self.user, d.path)

    def __call__(self, value, column: Column) -> Division:
        from carenet.core.tabular.normalise import as_text, code
        text = as_text(value)
        digits = code(value)
        if digits.isdigit():
            division = self.by_code.get(digits)
            if division is None:
                raise CellError(f"区划代码 {digits} 不存在")
        else:
            key = header_key(text)
            found = self.by_name.get(key) or []
            for suffix in self.SUFFIXES:
                if not found and key.endswith(suffix):
                    stem = key[: -len(suffix)]
                    found = self.by_name.get(stem) or self.by_name.get(stem + "社区") or self.by_name.get(stem + "村") or []
            if not found:
                raise CellError(f"{column.label}“{text}”不存在（请填写区划名称或区划代码）")
            mine = [d for d in found if self.visible(d)]
            if len(mine) > 1:
                raise CellError(f"{column.label}“{text}”有重名（{'、'.join(d.full_name for d in mine[:3])}），请改填区划代码")
            division = mine[0] if mine else found[0]
        if not self.visible(division):
            raise CellError(f"{column.label}“{text}”不在您的管辖范围内")
        min_level = column.params.get("min_level")
        if min_level and division.level < min_level:
            raise CellError(f"{column.label}“{text}”是{self.LEVELS.get(division.level, '')}，请填写社区/村或网格")
        return division


class DivisionsLookup:
    """kind="divisions": several divisions in one cell (甲社区、乙社区), each as kind="division" reads it."""

    def __init__(self, one: DivisionLookup):
        self.one = one

    def __call__(self, value, column: Column) -> list[Division]:
        import re

        from carenet.core.tabular.normalise import as_text
        out: list[Division] = []
        for part in re.split(r"[、，,;；/\s]+", as_text(value)):
            if part and (division := self.one(part, column)) not in out:
                out.append(division)
        return out


# --- the pipeline ---------------------------------------------------------------------------------------------

def _saved_mapping(importer: Importer, sheets, params: dict | None = None) -> tuple[dict, list[ColumnMapping]]:
    signatures = {lay.signature for s in sheets if (lay := layout(s, importer.schema))}
    saved = list(ColumnMapping.objects.filter(importer=importer.key, scope=importer.mapping_scope(params or {}),
                                              signature__in=signatures))
    mapping: dict = {}
    for m in saved:
        mapping.update(m.mapping)
    return mapping, saved


def _parse(importer: Importer, sheets, user, *, require_mapping: bool, params: dict | None = None) -> Parsed:
    mapping, _ = _saved_mapping(importer, sheets, params)
    divisions = DivisionLookup(user)
    return parse(sheets, importer.schema, mapping, kinds={"division": divisions, "divisions": DivisionsLookup(divisions)},
                 require_mapping=require_mapping)


def stage(importer: Importer, user, filename: str, data: bytes, params: dict | None = None) -> ImportUpload:
    """Keep an upload (encrypted) for its preview. Refuses, with FileError, a file that cannot be read at all."""
    require(user, importer.capability)
    clean = importer.check_params(user, params or {})
    read_file(data, filename)
    ImportUpload.objects.filter(created__lt=timezone.now() - STAGED_FOR).delete()
    return ImportUpload.objects.create(importer=importer.key, user=user, filename=filename[:200],
                                       data_enc=pii.encrypt_bytes(data), params=clean)


@dataclass
class Preview:
    parsed: Parsed
    rows: list[Row]            # the first rows as understood, validated
    total: int
    accepted: int
    rejected: int
    needs_mapping: bool
    samples: dict              # sheet → {column index: [first values as text]}, for the mapping screen


def preview(importer: Importer, upload: ImportUpload, user) -> Preview:
    """The file as it would be imported, with nothing written: layouts, first rows, counts."""
    require(user, importer.capability)
    sheets = read_file(pii.decrypt_bytes(upload.data_enc), upload.filename)
    parsed = _parse(importer, sheets, user, require_mapping=False, params=upload.params)
    needs = bool(parsed.missing)
    if not needs:
        importer.validate(parsed.rows, Context(user, importer, upload.filename, params=upload.params))
    from carenet.core.tabular.normalise import as_text
    samples = {}
    for sheet in sheets:
        lay = next((lay for lay in parsed.layouts if lay.sheet == sheet.name), None)
        if lay:
            body = sheet.rows[lay.first_data_row - 1: lay.first_data_row + 2]
            samples[sheet.name] = {i: [_mask_sample(as_text(r[i]) if i < len(r) else "") for r in body]
                                   for i in range(len(lay.headers))}
    accepted = len(parsed.accepted)
    return Preview(parsed, parsed.rows[:PREVIEW_ROWS], len(parsed.rows), accepted if not needs else 0,
                   len(parsed.rows) - accepted if not needs else 0, needs, samples)


def _mask_sample(text: str) -> str:
    from carenet.core.tabular.report import mask_text
    return mask_text(text)


@transaction.atomic
def save_mapping(importer: Importer, user, lay: Layout, mapping: dict[str, str], source_name: str = "",
                 params: dict | None = None) -> ColumnMapping:
    """Save the staff's choice of which header feeds which column, for every later file of this source."""
    require(user, importer.capability)
    known = {c.key for c in importer.schema.columns}
    clean = {h: (k if k in known else IGNORE) for h, k in mapping.items() if h}
    obj, created = ColumnMapping.objects.update_or_create(
        importer=importer.key, scope=importer.mapping_scope(params or {}), signature=lay.signature,
        defaults={"headers": lay.headers, "mapping": clean, "source_name": source_name[:100], "created_by": user})
    audit.record(AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE, obj, actor=user,
                 after={"importer": importer.key, "mapping": clean},
                 division_path=user.division.path if user.division_id else "")
    return obj


def start(importer: Importer, upload: ImportUpload, user) -> ImportRun:
    """Queue the import of a staged upload as a background job (core.import_jobs): the run is created now and
    the job starts once this transaction has committed. The result page follows its progress."""
    require(user, importer.capability)
    with transaction.atomic():
        queued = ImportRun.objects.create(
            importer=importer.key, user=user, division_path=user.division.path if user.division_id else "",
            filename=upload.filename, params=upload.params, upload=upload, status=ImportRun.Status.QUEUED)
        import_jobs.launch(queued, execute)
    return queued


def run(importer: Importer, upload: ImportUpload, user) -> ImportRun:
    """Import a staged upload now, in this thread (commands, tests). The upload is deleted afterwards."""
    data = pii.decrypt_bytes(upload.data_enc)
    imported = import_file(importer, data, upload.filename, user, params=upload.params)
    upload.delete()
    return imported


def import_file(importer: Importer, data: bytes, filename: str, user, params: dict | None = None) -> ImportRun:
    """Read, validate and write a file in one go, in this thread (commands, scripts, tests).

    Raises FileError / MappingNeeded when the file as a whole cannot be read. A failure while writing rolls
    everything back and returns a FAILED run that says nothing was imported."""
    require(user, importer.capability)
    params = importer.check_params(user, params or {})
    parsed = _parse(importer, read_file(data, filename), user, require_mapping=True, params=params)
    started = ImportRun.objects.create(
        importer=importer.key, user=user, division_path=user.division.path if user.division_id else "",
        filename=filename[:200], params=params, status=ImportRun.Status.RUNNING, started=timezone.now())
    return write_run(importer, parsed, Context(user, importer, filename, params=params), started)


def execute(run_id: int) -> ImportRun:
    """The import job's body (core.import_jobs has the job's plumbing). The log is read by staff: written in the
    site language whatever thread or command runs it."""
    with translation.override(settings.LANGUAGE_CODE):
        return _execute(run_id)


def _execute(run_id: int) -> ImportRun:
    if not claim(run_id):
        return ImportRun.objects.get(pk=run_id)
    run = ImportRun.objects.select_related("user", "user__division", "upload").get(pk=run_id)
    steps = Steps(run)
    importer = get(run.importer)
    try:
        if importer is None:
            raise FileError("这种导入已不再提供。")
        upload = run.upload
        sheets = read_file(pii.decrypt_bytes(upload.data_enc), upload.filename)
        steps(_("Read the file: %(sheets)s sheet(s), %(rows)s lines (%(s).1f s)") % {
            "sheets": len(sheets), "rows": sum(len(s.rows) for s in sheets), "s": steps.elapsed()}, 10)
        params = importer.check_params(run.user, upload.params)
        parsed = _parse(importer, sheets, run.user, require_mapping=True, params=params)
        steps(_("Found the header and normalised %(n)s rows (%(s).1f s)") % {
            "n": len(parsed.rows), "s": steps.elapsed()}, 40)
        ctx = Context(run.user, importer, run.filename, params=params)
        done = write_run(importer, parsed, ctx, run, steps)
    except Exception as exc:  # FileError / MappingNeeded / Denied say what to do; anything else is a bug
        message = str(exc) if isinstance(exc, FileError) else _("The import stopped; nothing was imported.")
        if not isinstance(exc, FileError):
            log.exception("import run %s failed", run.pk)  # the traceback goes to the server log
        steps(_("Failed: %(why)s") % {"why": message})
        with transaction.atomic():
            ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.FAILED, finished=timezone.now(),
                                                       message=message[:300], accepted=0)
        run.refresh_from_db()
        return run
    if done.status == ImportRun.Status.DONE and done.upload_id:
        ImportUpload.objects.filter(pk=done.upload_id).delete()  # the file is not kept once imported
        done.refresh_from_db()
    return done

"""The audit log read as sentences ("张三 修改了 李四 的联系电话"), with values in local time and plain words.

Rows keep their raw before/after JSON (what an inspector can verify); this module only renders them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from carenet.core.models import AuditLog

A = AuditLog.Action
VERBS = {
    A.CREATE: _l("created"), A.UPDATE: _l("changed"), A.DELETE: _l("deleted"),
    A.VIEW_ID: _l("viewed the full ID number of"), A.VIEW_HEALTH: _l("viewed the health archive of"),
    A.EXPORT: _l("exported"), A.IMPORT: _l("imported"), A.LOOKUP: _l("looked up across the district"),
}
NOTES = [
    (re.compile(r"^missing capability "), _l("the role does not allow this action")),
    (re.compile(r"^record outside your jurisdiction"), _l("the record lies outside the user's area")),
    (re.compile(r"^rows=(\d+)"), None),
]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
CODE_PREFIX = re.compile(r"^[a-z_]+(?:\.[a-z_]+)+(?: [a-z_]+)*:\s*")   # "assistance.payment stop: …"
DEFAULT_REPR = re.compile(r"^[A-Za-z]+ object \((\w+)\)$")                 # Django's str() of a model
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Change:
    field: str
    before: str
    after: str


def model_label(label: str) -> str:
    """"people.resident" → "居民" (the model's translated verbose name)."""
    try:
        # Models without a verbose_name get Django's English default ("settlement run"): translated here.
        return _(str(apps.get_model(label)._meta.verbose_name))
    except (LookupError, ValueError):
        return _("record")


def _field(model, name: str):
    if model is None:
        return None
    for f in model._meta.concrete_fields:
        if f.attname == name or f.name == name:
            return f
    return None


def _value(field, value) -> str:
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, str) and ISO.match(value):
        when = parse_datetime(value)
        if when is not None:
            if timezone.is_aware(when):
                when = timezone.localtime(when)
            return when.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, dict)):
        return "、".join(str(v) for v in value) if isinstance(value, list) else _("(details)")
    return str(value)


def changes(entry: AuditLog) -> list[Change]:
    try:
        model = apps.get_model(entry.model) if entry.model else None
    except (LookupError, ValueError):
        model = None
    before, after = entry.before or {}, entry.after or {}
    if entry.action != A.UPDATE:
        return []
    out = []
    for name in after:
        field = _field(model, name)
        label = str(field.verbose_name) if field is not None else name
        out.append(Change(label, _value(field, before.get(name)), _value(field, after.get(name))))
    return out


def note_text(note: str) -> str:
    for pattern, text in NOTES:
        match = pattern.match(note)
        if match:
            return str(text) if text is not None else _("%(n)s rows") % {"n": match.group(1)}
    note = CODE_PREFIX.sub("", note)
    return note if CJK.search(note) else ""   # developer notes stay in the raw row, not on the page


def sentence(entry: AuditLog) -> str:
    actor = (entry.actor.display_name if entry.actor_id and entry.actor else entry.actor_name) or _("the system")
    what = entry.object_repr or model_label(entry.model)
    default = DEFAULT_REPR.match(what)
    if default:
        what = f"{model_label(entry.model)} #{default.group(1)}"
    if entry.action == A.LOGIN:
        return _("%(actor)s logged in") % {"actor": actor}
    if entry.action == A.LOGIN_FAILED:
        return _("failed login as %(actor)s") % {"actor": actor}
    if entry.action == A.LOCKED:
        return _("account %(actor)s was locked after repeated failed logins") % {"actor": actor}
    if entry.action == A.DENIED:
        return _("%(actor)s was refused") % {"actor": actor}
    verb = VERBS.get(entry.action, entry.get_action_display())
    if entry.action == A.UPDATE:
        fields = "、".join(c.field for c in changes(entry))
        if fields:
            return _("%(actor)s changed %(fields)s of %(what)s") % {"actor": actor, "fields": fields, "what": what}
    if entry.action in (A.CREATE, A.DELETE, A.EXPORT, A.IMPORT) and entry.object_repr and not default:
        what = f"{model_label(entry.model)}「{entry.object_repr}」" if entry.model else entry.object_repr
    elif entry.action in (A.EXPORT, A.IMPORT):
        what = model_label(entry.model)
    return f"{actor} {verb} {what}"


def rows(entries) -> list[dict]:
    return [{"e": e, "sentence": sentence(e), "changes": changes(e), "note": note_text(e.note),
             "ts": timezone.localtime(e.ts) if timezone.is_aware(e.ts) else e.ts} for e in entries]

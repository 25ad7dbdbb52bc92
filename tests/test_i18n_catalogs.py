"""Every Chinese catalogue in the project is complete and compiled (the UI defaults to Simplified Chinese)."""
import ast
import gettext
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "carenet"
CATALOGUES = sorted(SRC.rglob("locale/zh_Hans/LC_MESSAGES/django.po"))


def test_there_are_catalogues():
    assert {p.relative_to(SRC).parts[0] for p in CATALOGUES} >= {"locale", "assistance", "callcenter", "policy"}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(SRC)))
def test_catalogue_is_complete_and_compiled(po):
    text = po.read_text(encoding="utf-8")
    entries = [e for e in re.split(r"\n\n+", text)[1:] if e.strip() and not e.lstrip().startswith("#~")]
    untranslated = [e.split("msgid ", 1)[1].splitlines()[0] for e in entries
                    if e.strip().splitlines()[-1] in ('msgstr ""', 'msgstr[0] ""')]
    fuzzy = [e.split("msgid ", 1)[1].splitlines()[0] for e in entries if "#, fuzzy" in e]
    assert untranslated == [] and fuzzy == []
    with open(po.with_suffix(".mo"), "rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog
    stale = [msgid for msgid, msgstr in _pairs(entries) if msgid and compiled.get(msgid) != msgstr]
    assert stale == [], "the .mo is out of date: run compilemessages"


def _pairs(entries):
    """(msgid, msgstr) of the singular entries without context, from .po text."""
    for entry in entries:
        if "msgid_plural" in entry or "msgctxt" in entry:
            continue
        parts, current = {"msgid": [], "msgstr": []}, None
        for line in entry.splitlines():
            for key in ("msgid", "msgstr"):
                if line.startswith(key + " "):
                    current, line = key, line[len(key) + 1:]
            if current and line.startswith('"'):
                parts[current].append(ast.literal_eval(line))
        yield "".join(parts["msgid"]), "".join(parts["msgstr"])

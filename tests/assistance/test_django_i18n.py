"""The assistance UI is complete in Simplified Chinese (the default) and readable in English."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

import carenet.assistance

pytestmark = pytest.mark.django_db

PO = Path(carenet.assistance.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_string_has_a_chinese_translation_and_the_catalogue_is_compiled():
    text = PO.read_text(encoding="utf-8")
    entries = re.split(r"\n\n+", text)
    untranslated = [e for e in entries[1:] if not e.startswith("#~")
                    and e.strip().splitlines()[-1] in ('msgstr ""', 'msgstr[0] ""')]
    assert untranslated == []
    assert "#, fuzzy" not in text
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime - 5


def test_pages_in_chinese_by_default_and_english_when_chosen(area, client):
    client.force_login(area.reviewer)
    page = client.get(reverse("assistance:cases")).content.decode()
    assert "救助案件" in page and "社会救助" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(reverse("assistance:cases")).content.decode()
    assert "Assistance cases" in page

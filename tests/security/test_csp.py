"""The Content-Security-Policy forbids inline script; no template may rely on it (a new app's too)."""
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "carenet"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
JS_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']\s*javascript:", re.I)


def test_no_template_has_inline_script_or_handlers():
    bad = []
    for path in SRC.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for rx, what in ((INLINE_SCRIPT, "inline <script>"), (HANDLER, "on…= handler"), (JS_URL, "javascript: URL")):
            for m in rx.finditer(text):
                bad.append(f"{path.relative_to(SRC)}:{text[:m.start()].count(chr(10)) + 1}: {what}")
    assert bad == [], "move it into a static .js file (see static/carenet/ui.js for data-attribute behaviours)"


@pytest.mark.django_db
def test_every_page_sends_the_policy(area, login):
    for client, url in ((login(area.worker_a), "/people/elders/"), (login(area.worker_a), "/login/")):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy

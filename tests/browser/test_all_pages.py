"""Every page reachable from the menus, as every demo role, on a desktop and a 390 px phone, in real Chromium.

Fails on: a 4xx/5xx answer, a JavaScript error, an untranslated message id, visible text of two or more Latin
words outside a small allowlist (IDs, units, brand names), or a page wider than the phone. Screenshots of each
role's home page go to test-artifacts/pages/. This is the check that keeps #18's promises kept: a new page in a
menu is covered without anyone remembering it.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SRC = Path(__file__).resolve().parents[2] / "src" / "carenet"
# Every demo login except a second one of the same role: a new role's login is crawled without anyone adding it.
SAME_ROLE_AS_ANOTHER = {"worker2"}
SKIP_PATHS = ("/logout/", "/i18n/", "/api/", "/static/", "/media/")
# Latin words that may stand on a staff page: brands, units, formats, standard abbreviations.
ALLOWED = {"CareNet", "Excel", "English", "ID", "IP", "SOS", "GPS", "PM2.5", "CO2", "Open311", "GeoReport", "API",
           "ECharts", "WiFi", "App", "H5", "QR", "PDF", "CSV", "xlsx", "xls", "csv", "kg", "cm", "mmHg", "bpm",
           "ppm", "min", "km", "m", "s", "h", "MQTT", "HTTP", "JetStream"}
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9.'’]*(?:[ \t]+[A-Za-z][A-Za-z0-9.'’]*)+")
FILE_SUFFIXES = (".xlsx", ".xls", ".csv", ".pdf", ".png", ".jpg", ".json", ".cn", ".com", ".gov")
# The page's visible text without identifiers shown as such (user names, device ids, ID numbers in monospace).
VISIBLE_TEXT = """() => { const raw = [...document.querySelectorAll('.font-monospace, code, kbd')];
  raw.forEach(e => { e.dataset.crawlHidden = e.style.display; e.style.display = 'none'; });
  const text = document.body.innerText;
  raw.forEach(e => { e.style.display = e.dataset.crawlHidden; });
  return text; }"""
CODE_NAME = re.compile(r"(?<![\w./@-])[a-z]+(?:[._][a-z]+)+(?![\w/@-])")   # sos_pressed, people.resident


def _single_word_msgids() -> set[str]:
    words = set()
    for po in SRC.rglob("locale/zh_Hans/LC_MESSAGES/django.po"):
        for msgid in re.findall(r'^msgid "([A-Za-z][a-z]{3,})"$', po.read_text(encoding="utf-8"), re.M):
            words.add(msgid)
    return words - ALLOWED


def problems_in_text(text: str, msgid_words: set[str]) -> list[str]:
    found = []
    for run in LATIN_RUN.findall(text):
        words = [w for w in run.split() if w not in ALLOWED]
        if len(words) >= 2:
            found.append(f"English text: {run!r}")
    for code in CODE_NAME.findall(text):
        if "_" in code or code.count(".") == 1 and not code.endswith(FILE_SUFFIXES) and not code.startswith("www"):
            found.append(f"code name: {code!r}")
    for word in re.findall(r"(?<![A-Za-z0-9_])[A-Z][a-z]{3,}(?![A-Za-z0-9_])", text):
        if word in msgid_words:
            found.append(f"untranslated: {word!r}")
    return found


def test_the_text_checks_catch_english():
    words = {"Search", "Save"}
    assert problems_in_text("报警 Sound on 查询", words) == ["English text: 'Sound on'"]
    assert problems_in_text("导出 Excel 文件，GPS 定位，PM2.5 正常", words) == []
    assert problems_in_text("点击 Search", words) == ["untranslated: 'Search'"]
    assert problems_in_text("状态 sos_pressed，类型 people.resident", words) == [
        "code name: 'sos_pressed'", "code name: 'people.resident'"]
    assert problems_in_text("文件 report.xlsx，网址 www.example.cn", words) == []


@pytest.fixture
def district(transactional_db):
    call_command("seed", elders=80, communities=3, seed=7, verbosity=0)
    call_command("seed_assistance", verbosity=0)
    call_command("seed_callcenter", verbosity=0)
    for extra in ("seed_homecare", "seed_facilities", "seed_matching", "seed_civic"):
        try:
            call_command(extra, verbosity=0)
        except Exception as exc:  # an app not installed yet
            if "Unknown command" not in str(exc):
                raise


def _menu_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("nav a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        if not href or href.startswith("#") or href.startswith("javascript:"):
            continue
        url = urljoin(base + "/", href)
        path = urlparse(url).path
        if urlparse(url).netloc != urlparse(base).netloc or path.startswith(SKIP_PATHS):
            continue
        if url not in out:
            out.append(url)
    return out


def _detail_links(page, base: str, limit: int = 1) -> list[str]:
    """A few record pages linked from a list (…/<number>/), so detail pages are checked too."""
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        if href and re.search(r"/\d+/$", href) and not href.startswith(SKIP_PATHS):
            url = urljoin(base + "/", href)
            if url not in out:
                out.append(url)
        if len(out) >= limit:
            break
    return out


def test_every_menu_page_as_every_role(district, live_server, tmp_path, artifacts, settings):
    from playwright.sync_api import sync_playwright

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("pages are the same on both databases; the crawl runs once, in the SQLite pass")

    from carenet.demo.loader import DEMO_PASSWORD, DEMO_USERNAMES
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    base = live_server.url
    msgid_words = _single_word_msgids()
    shots = artifacts / "pages"
    shots.mkdir(exist_ok=True)
    problems: list[str] = []
    visited = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for role in [u for u in DEMO_USERNAMES if u not in SAME_ROLE_AS_ANOTHER]:
            for viewport, label in (({"width": 1366, "height": 900}, "desktop"), ({"width": 390, "height": 844}, "phone")):
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(f"JS error: {exc}"))
                # The test server speaks HTTP only; the console's WebSocket is tested in tests/callcenter.
                page.on("console", lambda msg, errors=errors: errors.append(f"console: {msg.text}")
                        if msg.type == "error" and "WebSocket" not in msg.text and "/ws/" not in msg.text else None)
                page.goto(base + "/login/")
                page.fill("input[name=username]", role)
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(shots / f"{role}-{label}-home.png"), full_page=False)
                queue = _menu_links(page, base)
                linked_from: dict[str, str] = {}
                seen: set[str] = set()
                while queue:
                    url = queue.pop(0)
                    if url in seen:
                        continue
                    seen.add(url)
                    errors.clear()
                    response = page.goto(url)   # waits for "load": pages are rendered by the server
                    visited += 1
                    where = f"{role}/{label} {urlparse(url).path}"
                    if response is None or response.status >= 400:
                        source = f" (linked from {linked_from[url]})" if url in linked_from else ""
                        problems.append(f"{where}: HTTP {response.status if response else '?'}{source}")
                        continue
                    text = page.evaluate(VISIBLE_TEXT)
                    problems += [f"{where}: {p}" for p in problems_in_text(text, msgid_words)]
                    problems += [f"{where}: {e}" for e in errors]
                    if label == "phone":
                        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                        if wide > 2:
                            problems.append(f"{where}: page is {wide}px wider than the phone")
                    else:
                        for detail in _detail_links(page, base):
                            if detail not in seen and detail not in queue and urlparse(url).path != "/":
                                queue.append(detail)
                                linked_from[detail] = urlparse(url).path
                context.close()
        browser.close()
    unique = list(dict.fromkeys(problems))
    assert visited > 40
    assert unique == [], f"{len(unique)} problems on {visited} page visits:\n" + "\n".join(unique[:800])

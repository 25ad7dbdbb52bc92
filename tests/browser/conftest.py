import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def browser_page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # A persistent context gets its own fresh --user-data-dir (Playwright refuses it as a launch arg).
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        yield page
        context.close()

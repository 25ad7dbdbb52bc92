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


def login(page, base, username, landing=None):
    """Sign in through the login form as `username` (the factories' password). Waits until the browser has left
    the login page (each role lands on its own home), or, with `landing`, until it is on base + landing."""
    from tests.factories import PASSWORD

    page.context.clear_cookies()
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    if landing is None:
        page.wait_for_url(lambda url: "/login/" not in url)
    else:
        page.wait_for_url(base + landing)

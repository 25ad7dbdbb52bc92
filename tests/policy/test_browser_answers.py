"""Issue 17's example questions, asked on the public page in headless Chromium: the answer card
must state the thing asked (a period, the programs, what to do, the place's own law …)."""

from __future__ import annotations

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def policy_index(settings, small_index):
    from carenet.policy import runtime

    settings.POLICY_INDEX_DIR = str(small_index["dir"])
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
        yield ctx.new_page()
        browser.close()


def _ask(page, base, question):
    page.goto(base + "/policy/")
    page.fill("#q", question)
    page.click("button[type=submit]")
    card = page.locator("[data-testid=answer]")
    card.wait_for()
    return card.inner_text()


def test_issue_examples_get_useful_answers(live_server, policy_index, page, artifacts):
    from carenet.policy.models import QAPair
    from carenet.policy.starter import load_starter_into

    load_starter_into(QAPair)
    base = live_server.url

    text = _ask(page, base, "低保多久复查一次")
    assert "核查" in text and ("每年" in text or "每半年" in text or "定期" in text)
    assert not text.split("\n", 2)[1].startswith("会。")  # no yes/no opener for a "how often" question

    text = _ask(page, base, "残疾人有什么补助")
    programs = page.locator("[data-testid=answer-programs] li").all_inner_texts()
    assert len(programs) >= 2
    assert any("护理补贴" in p for p in programs) and any("生活补贴" in p for p in programs)

    text = _ask(page, base, "子女不赡养老人怎么办")
    assert "调解" in text and ("起诉" in text or "诉讼" in text)
    assert "能。" not in text.split("\n", 2)[1]

    text = _ask(page, base, "我80岁了有什么补贴")
    assert "高龄津贴" in text

    _ask(page, base, "北京的居家养老服务包括哪些内容")
    sources = page.locator("[data-testid=hit] .src").all_inner_texts()
    # the place named comes before every other place's law (national law may stand beside it)
    local = [s for s in sources if "中华人民共和国" not in s]
    assert local and "北京" in local[0]
    assert any("北京" in s for s in sources[:3])

    text = _ask(page, base, "家里失火了日子过不下去可以找政府帮忙吗")
    assert "临时救助" in text or "火灾" in text
    assert "草原防火" not in page.locator("[data-testid=hit] .src").first.inner_text()

    text = _ask(page, base, "社区要不要给留守儿童建档案")
    assert "居民委员会" in text or "居）民委员会" in text or "村（居）委会" in text
    page.screenshot(path=str(artifacts / "policy-issue17-answer.png"), full_page=True)

"""Answers that answer: question kinds, the quoted sentence, program lists, yes/no openers."""

from __future__ import annotations

import pytest

from carenet.policy.engine.compose import Quote, compose, programs, question_kind, strip_opener
from carenet.policy.engine.qa import QAMatcher, ask, load_starter


@pytest.mark.parametrize("question,kind", [
    ("低保多久复查一次", "period"),
    ("残疾人有什么补助", "list"),
    ("我80岁了有什么补贴", "list"),
    ("子女不赡养老人怎么办", "todo"),
    ("临时救助去哪里申请", "where"),
    ("低保标准是谁定的", "who"),
    ("高龄津贴一个月多少钱", "amount"),
    ("家里失火了日子过不下去可以找政府帮忙吗", "yesno"),
    ("社区要不要给留守儿童建档案", "yesno"),
    ("老年人权益保障", "general"),
])
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_opener_only_for_yes_no_questions():
    assert strip_opener("会。县级民政部门定期核查。", "period") == "县级民政部门定期核查。"
    assert strip_opener("能。可以申请临时救助。", "yesno") == "能。可以申请临时救助。"


CHONGQING = ("重庆市城乡居民最低生活保障条例", "第二十六条", "x1",
             "最低生活保障工作实行动态管理。\n区县（自治县）民政部门以及乡（镇）人民政府、街道办事处应当对获得最低生活"
             "保障家庭的人口、收入、财产和消费支出状况定期核查。\n共同生活的家庭成员中有重病、重残人员，且家庭收入基本无"
             "变化的，每年核查一次；共同生活的家庭成员和收入状况相对稳定的，每半年核查一次。")


def test_period_question_quotes_the_sentence_with_the_period():
    out = compose("低保多久复查一次", [Quote(*CHONGQING)])
    assert out.kind == "period"
    assert "每年核查一次" in out.lead or "每半年核查一次" in out.lead
    assert out.quote.article == "第二十六条"


def test_subsidy_question_lists_the_programs():
    texts = [Quote("某省扶贫开发条例", "第二十八条", "a",
                   "县级以上人民政府建立健全与扶贫政策相衔接的城乡居民基本养老保险、最低生活保障、特困人员供养、"
                   "困难残疾人生活补贴和重度残疾人护理补贴、孤儿和困境儿童基本生活保障等制度。"),
             Quote("残疾人保障法", "第四十八条", "b", "对生活不能自理的残疾人，地方各级人民政府应当根据情况给予护理补贴。")]
    names, sources = programs(texts)
    assert "困难残疾人生活补贴" in names and "重度残疾人护理补贴" in names
    assert sources[0].article == "第二十八条"
    out = compose("残疾人有什么补助", texts)
    assert out.kind == "list" and len(out.programs) >= 2


def test_what_to_do_question_gets_an_action_not_a_yes():
    pair = {"question": "子女不赡养老人可以告吗", "answer": "能。可以申请调解，也可以直接起诉。",
            "citations": []}
    src = [Quote("中华人民共和国老年人权益保障法", "第七十五条", "c",
                 "老年人与家庭成员因赡养、扶养或者住房、财产等发生纠纷，可以申请人民调解委员会或者其他有关组织进行调解，"
                 "也可以直接向人民法院提起诉讼。")]
    out = compose("子女不赡养老人怎么办", src, pair["answer"])
    assert not out.curated.startswith("能")
    assert "调解" in out.lead or "诉讼" in out.lead


def test_ask_returns_a_composed_card(searcher):
    matcher = QAMatcher(load_starter())
    answer = ask("申请低保要到哪里去办", searcher, matcher, k=5)
    assert answer.composed is not None and answer.composed.kind == "where"
    assert "人民政府" in answer.composed.lead and "申请" in answer.composed.lead
    assert answer.to_dict()["composed"]["quote"]["law"]

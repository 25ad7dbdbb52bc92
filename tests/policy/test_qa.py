"""Curated Q&A: matching, fallback, and the data files themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carenet.policy.engine.corpus import normalise_title
from carenet.policy.engine.qa import QAMatcher, ask, load_starter

DATA = Path(__file__).resolve().parents[2] / "src" / "carenet" / "policy" / "data"


@pytest.fixture(scope="module")
def pairs():
    return load_starter()


@pytest.fixture(scope="module")
def matcher(pairs):
    return QAMatcher(pairs)


def test_starter_set_shape(pairs):
    assert len(pairs) >= 200
    assert len({p["id"] for p in pairs}) == len(pairs)
    assert len({p["question"] for p in pairs}) == len(pairs)
    for p in pairs:
        assert p["question"].strip() and len(p["answer"]) >= 10 and p["citations"]
        for c in p["citations"]:
            assert c["article"].startswith("第") and c["article"].endswith("条")


def _current_articles(corpus):
    laws = {law.law_key: law for law in corpus.laws}
    return {(laws[a.law_key].norm_title, a.label) for a in corpus.articles if not laws[a.law_key].superseded}


def test_every_qa_citation_resolves_to_a_current_article(full_corpus, pairs):
    current = _current_articles(full_corpus)
    missing = [(p["id"], c["law"], c["article"]) for p in pairs for c in p["citations"]
               if (normalise_title(c["law"]), c["article"]) not in current]
    assert missing == []


@pytest.mark.parametrize("name,minimum", [("eval_questions.json", 100), ("eval_heldout.json", 30),
                                          ("eval_fresh.json", 30), ("eval_fresh2.json", 30),
                                          ("eval_fresh3.json", 40), ("eval_unseen.json", 60)])
def test_every_eval_answer_resolves(full_corpus, name, minimum):
    questions = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert len(questions) >= minimum
    assert len({q["question"] for q in questions}) == len(questions)
    current = _current_articles(full_corpus)
    missing = [(q["id"], a["law"], a["article"]) for q in questions for a in q["answers"]
               if (normalise_title(a["law"]), a["article"]) not in current]
    assert missing == []


def test_unseen_set_spans_topics_and_places():
    """The unseen set (issue 17) covers the topics and several provinces' local laws."""
    questions = json.loads((DATA / "eval_unseen.json").read_text(encoding="utf-8"))
    laws = " ".join(a["law"] for q in questions for a in q["answers"])
    for word in ("社会救助", "老年人", "残疾人", "未成年人", "殡葬", "婚姻登记", "收养"):
        assert word in laws, word
    places = {p for p in ("上海", "北京", "重庆", "浙江", "山东", "河南", "威海", "青岛", "德州") if p in laws}
    assert len(places) >= 6


def test_paraphrase_matches_curated_question(matcher):
    best = matcher.best("低保户家里的孩子上学有没有补助")
    assert best is not None
    assert any(c["article"] == "第三十三条" for c in best.pair["citations"])


def test_unrelated_question_does_not_match(matcher):
    assert matcher.best("股份有限公司的注册资本最低限额是多少") is None
    assert matcher.best("") is None


def test_threshold_is_respected(pairs):
    strict = QAMatcher(pairs, threshold=1.01)
    assert strict.best(pairs[0]["question"]) is None
    assert QAMatcher(pairs).best(pairs[0]["question"]).pair["id"] == pairs[0]["id"]


def test_ask_falls_back_to_search(searcher, matcher):
    hit_only = ask("特种设备的安全监察由哪个部门负责", searcher, matcher, k=3)
    assert hit_only.qa is None and hit_only.hits
    both = ask("申请低保要到哪里去办", searcher, matcher, k=3)
    assert both.qa is not None and both.hits
    d = both.to_dict()
    assert d["qa"]["answer"] and d["hits"][0]["law_title"]
    assert ask("", searcher, matcher).hits == []

"""The generated Q&A bank (data/qa_bank.json, issue 17): size, coverage, and every pair verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carenet.policy.engine.corpus import normalise_title

DATA = Path(__file__).resolve().parents[2] / "src" / "carenet" / "policy" / "data"


@pytest.fixture(scope="module")
def bank():
    return json.loads((DATA / "qa_bank.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current_articles(full_corpus):
    laws = {law.law_key: law for law in full_corpus.laws}
    return {(laws[a.law_key].norm_title, a.label): a.text for a in full_corpus.articles
            if not laws[a.law_key].superseded}


def test_bank_and_starter_together_hold_at_least_2000_pairs(bank):
    starter = json.loads((DATA / "qa_starter.json").read_text(encoding="utf-8"))
    assert len(bank) + len(starter) >= 2000
    assert len({p["id"] for p in bank}) == len(bank)
    assert len({p["question"] for p in bank}) == len(bank)


def test_every_pair_cites_a_current_article_and_quotes_it(bank, current_articles):
    bad = []
    for p in bank:
        (c,) = p["citations"]
        text = current_articles.get((normalise_title(c["law"]), c["article"]))
        if text is None or p["quote"] not in text.replace("\n", "。") and p["quote"] not in text:
            bad.append(p["id"])
        elif c["article"] not in p["answer"] or len(p["question"]) < 6:
            bad.append(p["id"])
    assert bad == []


def test_bank_covers_the_topics_and_each_provinces_assistance_and_eldercare_laws(bank, full_corpus):
    topics = {p["topic"] for p in bank}
    assert {"assistance", "elderly", "disability", "children", "funeral", "marriage"} <= topics
    cited = {normalise_title(p["citations"][0]["law"]) for p in bank}
    wanted = [law.norm_title for law in full_corpus.laws
              if not law.superseded and law.level == "local"
              and any(w in law.title for w in ("社会救助", "最低生活保障", "养老服务", "老年人权益保障"))]
    assert wanted
    missing = [t for t in wanted if t not in cited]
    assert missing == []


def test_generated_answers_read_as_answers(bank):
    for p in bank:
        if p["question"].endswith("吗？") and p["answer"].startswith(("可以。", "不可以。", "有权。")):
            continue
        assert "规定：" in p["answer"]

"""Search over a small real index: ranking, filters, superseded versions, related articles."""

from __future__ import annotations

import pytest

from carenet.policy.engine.search import Filters, IndexNotFound, Searcher


def labels(hits):
    return [(h.law_title, h.article_label) for h in hits]


def test_build_reports_progress_and_counts(small_index):
    meta, events = small_index["meta"], small_index["events"]
    assert meta["articles"] > 1000 and meta["laws"] >= 40
    assert meta["superseded_laws"] >= 5
    stages = {e[0] for e in events}
    assert {"parse", "tokenize", "index"} <= stages
    done = [e for e in events if e[0] == "tokenize"]
    assert done[-1][1] == done[-1][2] == meta["articles"]


def test_missing_index_raises(tmp_path):
    with pytest.raises(IndexNotFound):
        Searcher(tmp_path / "nope")


@pytest.mark.parametrize("query,law,article", [
    ("临时救助怎么申请", "社会救助暂行办法", "第四十八条"),
    ("特困人员供养包括哪些内容", "社会救助暂行办法", "第十五条"),
    ("子女对老人有哪些赡养义务", "中华人民共和国老年人权益保障法", "第十四条"),
    ("火化遗体要什么证明", "殡葬管理条例", "第十三条"),
])
def test_plain_questions_find_the_article(searcher, query, law, article):
    assert (law, article) in labels(searcher.search(query, k=5))


def test_hits_carry_metadata_and_safe_snippet(searcher):
    hit = searcher.search("低保申请要多久批下来", k=3)[0]
    assert hit.law_title and hit.article_label.startswith("第") and hit.article_label.endswith("条")
    assert hit.version_date and hit.level in ("national", "local")
    assert "<mark>" in hit.snippet_html
    assert "<script" not in searcher.search("<script>低保</script>", k=3)[0].snippet_html


def test_empty_and_nonsense_queries(searcher):
    assert searcher.search("", k=5) == []
    assert searcher.search("   ", k=5) == []
    assert searcher.search("qqqzzzxxx", k=5) == []


def test_level_and_region_filters(searcher):
    local = searcher.search("老年人权益保障", k=20, filters=Filters(level="local"))
    assert local and all(h.level == "local" for h in local)
    national = searcher.search("老年人权益保障", k=20, filters=Filters(level="national"))
    assert national and all(h.level == "national" for h in national)
    sh = searcher.search("老年人权益保障", k=20, filters=Filters(region="上海"))
    assert sh and all(h.region == "上海" for h in sh)
    assert any(h.law_title == "上海市老年人权益保障条例" for h in sh)


def test_category_filter(searcher):
    hits = searcher.search("救助", k=20, filters=Filters(category="行政法规"))
    assert hits and all(h.category == "行政法规" for h in hits)
    facets = searcher.facets()
    assert ("行政法规" in dict(facets["categories"])) and ("上海" in dict(facets["regions"]))


def test_superseded_versions_are_excluded_by_default(searcher):
    old_and_new = [law for law in searcher.laws if law["title"] == "上海市社会救助条例"]
    assert len(old_and_new) == 2
    old = next(law for law in old_and_new if law["superseded"])
    new = next(law for law in old_and_new if not law["superseded"])
    assert old["effective_date"] < new["effective_date"]
    q = "上海市社会救助条例 临时救助"
    default = searcher.search(q, k=50)
    assert all(not h.superseded for h in default)
    assert any(h.law_key == new["law_key"] for h in default)
    both = searcher.search(q, k=100, filters=Filters(region="上海", include_superseded=True))
    old_hits = [h for h in both if h.law_key == old["law_key"]]
    assert old_hits, "superseded version should be searchable on request"
    # the same article in the old version ranks below its current version
    for oh in old_hits:
        newer = [h for h in both if h.law_key == new["law_key"] and h.article_number == oh.article_number]
        if newer:
            assert newer[0].score > oh.score


def test_known_replacement_marks_marriage_law_interpretation(searcher):
    law = next(law for law in searcher.laws if "婚姻法》若干问题的解释（一）" in law["title"])
    assert law["superseded"] is True


def test_find_article_resolves_citations(searcher):
    hit = searcher.find_article("中华人民共和国老年人权益保障法", "第二条")
    assert hit is not None and "六十周岁" in hit.text
    civil = searcher.find_article("中华人民共和国民法典", "第一千零六十七条")
    assert civil is not None and civil.law_part == "婚姻家庭编"
    assert searcher.find_article("中华人民共和国老年人权益保障法", "第九百条") is None
    assert searcher.find_article("不存在的法", "第一条") is None


def test_article_number_in_query_is_a_direct_hit(searcher):
    hits = searcher.search("老年人权益保障法第十九条", k=3)
    assert labels(hits)[0] == ("中华人民共和国老年人权益保障法", "第十九条")


def test_related_articles(searcher):
    target = searcher.find_article("社会救助暂行办法", "第十一条")
    rel = searcher.related_articles(target.article_id)
    nb = rel["neighbours"]
    assert {h.article_label for h in nb} == {"第九条", "第十条", "第十二条", "第十三条"}
    assert all(h.law_key == target.law_key for h in nb)
    assert rel["similar"] and all(h.law_title != "社会救助暂行办法" for h in rel["similar"])
    assert all(not h.superseded for h in rel["similar"])
    assert searcher.related_articles("nope") == {"neighbours": [], "similar": []}


def test_home_region_lifts_own_province(searcher):
    q = "老年人权益保障 赡养人"
    plain = [h for h in searcher.search(q, k=30) if h.region == "河南"]
    home = [h for h in searcher.search(q, k=30, filters=Filters(home_region="河南")) if h.region == "河南"]
    assert home and (not plain or home[0].score > plain[0].score)


def test_judicial_interpretations_rank_below_the_statute(searcher):
    from carenet.policy.engine import search as search_mod

    interp = next(law for law in searcher.laws if "婚姻家庭编的解释（一）" in law["title"])
    assert interp["category"] == "司法解释"
    q = "夫妻 扶养 义务"
    scored = searcher.score(q)
    pos = [p for p in searcher._law_positions(searcher.laws.index(interp)) if scored[p] > 0]
    assert pos, "the interpretation should still match"
    # the prior is applied on top of the domain prior, article by article
    old = search_mod.JUDICIAL_INTERPRETATION_PRIOR
    try:
        search_mod.JUDICIAL_INTERPRETATION_PRIOR = 1.0
        plain = searcher.score(q)
    finally:
        search_mod.JUDICIAL_INTERPRETATION_PRIOR = old
    for p in pos:
        assert abs(scored[p] - plain[p] * old) <= 1e-4 * max(1.0, plain[p])
    statute = searcher.find_article("中华人民共和国民法典", "第一千零五十九条")
    assert searcher.search(q, k=1)[0].article_id == statute.article_id

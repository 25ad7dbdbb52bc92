"""Unit tests of the pure engine pieces: numerals, parsing, tokenisation, highlighting."""

from __future__ import annotations

import pytest

from carenet.policy.engine.corpus import Law, mark_superseded, normalise_title, parse_document
from carenet.policy.engine.highlight import mark, snippet
from carenet.policy.engine.numerals import cn_to_int, int_to_cn
from carenet.policy.engine.tokenizer import expand_query, highlight_terms, tokenize


@pytest.mark.parametrize("cn,n", [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("一百零五", 105),
                                  ("一百一十", 110), ("一千零一十", 1010), ("一千二百六十", 1260)])
def test_numerals_both_ways(cn, n):
    assert cn_to_int(cn) == n
    assert int_to_cn(n) == cn


def test_numeral_round_trip_range():
    assert all(cn_to_int(int_to_cn(i)) == i for i in range(1, 3000))
    with pytest.raises(ValueError):
        cn_to_int("十x")


DOC = {
    "path": "DLC/山东地方法规/地方性法规/山东/青岛市养老条例(2020-01-02).md",
    "category": "DLC/山东地方法规/地方性法规",
    "title": "青岛市养老条例",
    "version_date": None,
    "text": "\n".join([
        "# 青岛市养老条例", "", "2018年5月1日 通过", "", "2020年1月2日 修正", "", "<!-- INFO END -->", "",
        "## 第一章  总则", "", "第一条 为了<保障>老年人权益，制定本条例。", "",
        "第二条 本条例所称老年人是指六十周岁以上的公民。", "", "第二款的内容。", "",
        "## 第二章 服务", "", "### 第一节 居家", "", "第十条 居家养老服务包括：", "", "（一）助餐；", "",
        "第十条之一 新增的条文。", "", "## 第三章 附则", "", "第一百零一条 本条例自公布之日起施行。",
    ]),
}


def test_parse_document_splits_articles_with_chapters():
    law, arts = parse_document(DOC)
    assert [a.label for a in arts] == ["第一条", "第二条", "第十条", "第十条之一", "第一百零一条"]
    assert [a.number for a in arts] == [1, 2, 10, 10, 101]
    assert arts[1].text == "本条例所称老年人是指六十周岁以上的公民。\n第二款的内容。"
    assert arts[2].chapter == "第二章 服务 › 第一节 居家"
    assert arts[2].text.endswith("（一）助餐；")
    assert arts[4].chapter == "第三章 附则"
    assert len({a.article_id for a in arts}) == len(arts)
    assert law.level == "local" and law.region == "山东" and law.city == "青岛市"
    assert law.category == "地方性法规"
    assert law.effective_date == "2020-01-02"  # inferred from the header when version_date is missing
    assert law.article_count == 5


def test_parse_national_law_level():
    doc = dict(DOC, path="行政法规/某条例(2019-03-02).md", category="行政法规", title="某条例",
               version_date="2019-03-02")
    law, _ = parse_document(doc)
    assert (law.level, law.region, law.city, law.category) == ("national", "", "", "行政法规")


def _law(key, title, date, part="", n=10):
    return Law(law_key=key, path=key, title=title, norm_title=normalise_title(title), category="x",
               level="national", region="", city="", version_date=date, effective_date=date, part=part,
               article_count=n)


def test_superseded_versions_prefer_newest_but_keep_parts():
    laws = [
        _law("a1", "甲条例", "2010-01-01"), _law("a2", "甲条例", "2020-05-05"),
        _law("a3", "甲 条例", None),  # undated copy: oldest
        _law("c1", "民法典", "2020-05-28", part="总则"), _law("c2", "民法典", "2021-01-01", part="物权编"),
        _law("d1", "最高人民法院、最高人民检察院关于某解释", "2023-05-24", n=5),
        _law("d2", "最高人民法院  最高人民检察院关于某解释", "2023-05-24", n=9),
    ]
    mark_superseded(laws)
    state = {law.law_key: (law.superseded, law.superseded_by) for law in laws}
    assert state["a2"] == (False, None)
    assert state["a1"] == (True, "a2") and state["a3"] == (True, "a2")
    assert not state["c1"][0] and not state["c2"][0]  # parts of one code are not versions
    assert state["d2"] == (False, None) and state["d1"] == (True, "d2")  # duplicate: keep the fuller one


def test_tokenize_keeps_programme_names_and_drops_stopwords():
    toks = tokenize("申请最低生活保障的老年人和特困人员")
    assert "最低生活保障" in toks and "最低" in toks and "保障" in toks
    assert "特困人员" in toks and "老年人" in toks
    assert "的" not in toks and "和" not in toks


def test_query_expansion_weights():
    weights = dict(expand_query("低保申请要多久批下来"))
    assert weights["低保"] == 1.0 and weights["申请"] == 1.0
    assert 0 < weights["最低生活保障"] < 1.0
    assert 0 < weights["期限"] < 1.0
    assert "要" not in weights
    ages = dict(expand_query("80岁以上有什么补贴"))
    assert "八十" in ages and "周岁" in ages and "津贴" in ages and "高龄" in ages


def test_negated_words_are_weakened():
    w = dict(expand_query("没留遗嘱，老人的房子谁能继承"))
    assert w["遗嘱"] < 0.5 and w["继承"] == 1.0
    assert dict(expand_query("我想写遗嘱"))["遗嘱"] == 1.0


def test_mark_escapes_everything_but_marks():
    html = mark("第一条 <script>alert('x')</script> & 老年人权益", ["老年人", "<script>"])
    assert "<script>" not in html.replace("<mark>&lt;script&gt;</mark>", "")
    assert "<mark>&lt;script&gt;</mark>" in html
    assert "&amp;" in html and "<mark>老年人</mark>" in html
    assert html.count("<mark>") == html.count("</mark>") == 2


def test_snippet_centres_on_match_and_escapes():
    text = "前文" * 200 + "赡养人应当<履行>义务" + "后文" * 200
    snip = snippet(text, ["赡养人"], width=60)
    assert "<mark>赡养人</mark>" in snip
    assert snip.startswith("…") and snip.endswith("…")
    assert "&lt;履行&gt;" in snip and "<履行>" not in snip


def test_highlight_terms_include_expansions():
    terms = highlight_terms("低保怎么申请")
    assert "最低生活保障" in terms and "低保" in terms and "申请" in terms
    assert all(len(t) >= 2 for t in terms)

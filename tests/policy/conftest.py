"""Fixtures for policy tests: a small index built from ~50 real laws, once per session."""

from __future__ import annotations

import pytest

from carenet.policy.engine.corpus import default_corpus_path

SUBSET_TITLES = [
    # civil-affairs core
    "社会救助暂行办法", "城市居民最低生活保障条例", "中华人民共和国老年人权益保障法",
    "中华人民共和国残疾人保障法", "殡葬管理条例", "城市生活无着的流浪乞讨人员救助管理办法",
    "中华人民共和国反家庭暴力法", "中华人民共和国法律援助法", "中华人民共和国民法典",
    "自然灾害救助条例", "中华人民共和国社会保险法", "残疾人就业条例",
    # two versions each (superseded handling)
    "上海市社会救助条例", "中华人民共和国慈善法", "上海市殡葬管理条例", "北京市未成年人保护条例",
    "中华人民共和国妇女权益保障法", "中国公民收养子女登记办法",
    # local laws in several provinces (filters)
    "上海市老年人权益保障条例", "河南省老年人权益保障条例", "山东省老年人权益保障条例",
    "浙江省社会救助条例", "重庆市城乡居民最低生活保障条例", "山东省养老服务条例",
    "郑州市殡葬管理条例", "青岛市养老服务促进条例", "北京市居家养老服务条例",
    # unrelated laws, so ranking has competition
    "中华人民共和国公司法", "中华人民共和国道路交通安全法", "特种设备安全监察条例",
    "中华人民共和国个人信息保护法", "中华人民共和国行政复议法", "中华人民共和国就业促进法",
    "中华人民共和国无障碍环境建设法", "婚姻登记条例", "军人抚恤优待条例",
    "最高人民法院关于适用《中华人民共和国婚姻法》若干问题的解释（一）",
    "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）",
    "中华人民共和国精神卫生法", "志愿服务条例", "信访工作条例", "中华人民共和国未成年人保护法",
    "住房公积金管理条例", "中华人民共和国基本医疗卫生与健康促进法",
    # issue 17: a near-identical provincial city law (德州) for place awareness, local laws that
    # name the disability subsidies and the community's records of left-behind children
    "德州市养老服务条例", "青岛市残疾人保障条例", "北京市实施《中华人民共和国残疾人保障法》办法",
    "浙江省未成年人保护条例", "草原防火条例",
]


@pytest.fixture(scope="session")
def corpus_path():
    path = default_corpus_path()
    if not path.exists():
        pytest.skip(f"law corpus not found at {path} (set CARENET_LAW_CORPUS)")
    return path


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, corpus_path):
    from carenet.policy.engine.index import build_index

    out = tmp_path_factory.mktemp("policy") / "index"
    events = []
    meta = build_index(corpus_path, out, titles=SUBSET_TITLES, workers=1,
                       progress=lambda stage, done, total: events.append((stage, done, total)))
    return {"dir": out, "meta": meta, "events": events}


@pytest.fixture(scope="session")
def searcher(small_index):
    from carenet.policy.engine.search import Searcher

    return Searcher(small_index["dir"])


@pytest.fixture(scope="session")
def full_corpus(corpus_path):
    from carenet.policy.engine.corpus import load_corpus

    return load_corpus(corpus_path)

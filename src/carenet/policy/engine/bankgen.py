"""Generate Q&A pairs from the structure of the civil-affairs laws in the corpus.

Each pair comes from one article: a pattern recognises what the article settles (what a term
means, how to apply and where, a deadline, who sets a standard, what a list contains, what is
forbidden, who is entitled to what) and turns it into a plain question; the answer is the
sentence of the article that settles it, quoted (本市/本省 replaced by the place's name, 本条例
by the law's title). ``quote`` keeps the original sentence so a test can check it is in the
cited article. Nothing is invented: a pattern that does not match yields no pair.

    PYTHONPATH=src python -m carenet.policy.engine.bankgen > src/carenet/policy/data/qa_bank.json
"""

from __future__ import annotations

import json
import re
import sys
from typing import Iterator

from .corpus import PROVINCE_NAMES, Article, Law, default_corpus_path, load_corpus

TOPICS: list[tuple[str, tuple[str, ...]]] = [
    ("assistance", ("社会救助", "最低生活保障", "特困", "救助管理", "流浪乞讨", "自然灾害救助", "临时救助", "医疗救助")),
    ("elderly", ("老年人", "养老", "老龄", "长期护理")),
    ("disability", ("残疾", "无障碍")),
    ("children", ("未成年人保护", "预防未成年人", "家庭教育", "孤儿")),
    ("funeral", ("殡葬",)),
    ("marriage", ("婚姻登记", "收养")),
    ("family", ("反家庭暴力", "妇女权益")),
    ("charity", ("慈善", "志愿服务")),
    ("veterans", ("抚恤优待", "退役军人")),
    ("legal_aid", ("法律援助",)),
    ("community", ("村民委员会", "居民委员会", "城乡社区", "社区服务")),
    ("social_insurance", ("社会保险法", "医疗保障", "工伤保险", "失业保险", "基本养老保险", "医疗保险")),
    ("housing", ("公共租赁住房", "住房保障", "廉租住房")),
]
CIVIL_CODE_PARTS = ("婚姻家庭编", "继承编", "总则编")

_SENT = re.compile(r"[^。；！？\n]+[。；！？]?")
_CLEAN_SUBJECT = re.compile(r"^(本市|本省|本条例|本办法|国家|各级人民政府|县级以上人民政府|县级以上地方人民政府)")


def topic_of(law: Law) -> str | None:
    if law.title == "中华人民共和国民法典":
        return "family" if any(p in law.part for p in CIVIL_CODE_PARTS) else None
    for topic, words in TOPICS:
        if any(w in law.title for w in words):
            return topic
    return None


def place_of(law: Law) -> str:
    if law.city:
        return law.city
    if law.region:
        return PROVINCE_NAMES.get(law.region, law.region)
    return ""


def _localise(text: str, law: Law) -> str:
    place = place_of(law)
    if place:
        text = text.replace("本市", place if place.endswith("市") else place).replace("本省", place)
    short = f"《{law.title}》"
    return text.replace("本条例", short).replace("本办法", short).replace("本法", short)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.findall(text.replace("\n", "。")) if len(s.strip()) >= 8]


def _q(place: str, body: str) -> str:
    return f"{place}{body}" if not place else f"在{place}，{body}"


def _ok_phrase(s: str, lo: int = 2, hi: int = 22) -> bool:
    return lo <= len(s) <= hi and not re.search(r"[，,。；：:（）()、“”]", s)


RULES: list[tuple[str, re.Pattern[str]]] = [
    ("define", re.compile(r"^(?:本条例|本办法|本法)?(?:所称|中的)?(?P<x>[^，。；]{2,20}?)，(?:是指|指)")),
    ("apply", re.compile(r"^申请(?P<x>[^，。；]{2,16}?)(?:的)?，(?:应当)?(?:由|向|按照|经|到)")),
    ("deadline", re.compile(r"(?P<who>[^，。；]{2,24}?)应当(?:自|在)(?P<from>[^，。；]{2,24}?)(?:之日|之时)?(?:起)?"
                            r"(?P<n>[0-9一二三四五六七八九十两百]+)(?:个)?(?P<unit>工作日|日|天|小时|个月)(?:内|以内)")),
    ("standard", re.compile(r"(?P<x>[^，。；]{2,18}?)(?:的)?标准(?:，)?(?:由|按照)(?P<who>[^，。；]{2,40}?)(?:确定|制定|规定)")),
    ("contents", re.compile(r"^(?P<x>[^，。；：]{2,22}?)(?:主要)?包括(?:下列|以下)?(?:内容|服务|事项|项目|方式)?[：:]")),
    ("forbid", re.compile(r"^(?:任何单位和个人|任何组织和个人|任何组织或者个人)?(?:不得|禁止)(?P<x>[^，。；]{4,26}?)[。；]")),
    ("entitled", re.compile(r"^(?:对|为)(?P<who>[^。；]{3,28}?(?:人|者|家庭|人员|儿童|学生|妇女|子女|对象|户|孤儿))"
                            r"，?(?:[^，。；]{0,16}?)(?:给予|发放|提供)(?P<what>[^，。；]{2,20}?)[。；，]")),
    ("cases", re.compile(r"^(?P<pre>[^：:。；]{0,30}?)有下列(?:情形|行为|情况)之一的，(?P<main>[^：:。；]{4,40})[：:]")),
    ("who", re.compile(r"^(?P<x>[^，。；：]{2,24}?)由(?P<y>[^，。；：]{2,30}?)(?P<v>负责|审批|确定|决定|办理|组织实施|认定|发放)[，。；]")),
    ("may", re.compile(r"^(?:(?P<pre>[^，。；：]{2,16})，)?(?P<x>[^，。；：]{2,20}?)可以(?P<y>[^，。；：]{4,30})[，。；]")),
    ("right", re.compile(r"^(?:(?P<pre>[^，。；：]{2,16})，)?(?P<x>[^，。；：]{2,20}?)有权(?P<y>[^，。；：]{4,30})[，。；]")),
    ("duty", re.compile(r"^(?:(?P<pre>[^，。；：]{2,16})，)?(?P<x>[^，。；：]{2,20}?)应当(?P<y>[^，。；：]{4,30})[，。；]")),
]
_NOT_HELP = ("处分", "处罚", "表彰", "奖励", "罚款", "批评", "警告", "行政处分")
# a clause that starts with a preposition is not yet the action ("应当根据…，" / "应当在…之日起")
_Y_BAD = re.compile(r"^(根据|按照|依照|依据|在|对|与|为|自|通过|结合|从|以|由|将|把|会同|同|及时|加强|加大|坚持|遵循)")
_ACTOR_BAD = re.compile(r"^(对|在|为|经|因|凡|除|按照|根据|依照|有下列|下列|前款|本条|其|该|此)")


def _question(kind: str, m: re.Match[str], place: str) -> str | None:
    g = m.groupdict()
    if kind == "define" and _ok_phrase(g["x"]):
        return _q(place, f"“{g['x']}”指的是什么？")
    if kind == "apply" and _ok_phrase(g["x"]):
        return _q(place, f"申请{g['x']}要怎么办、向哪里提出？")
    if kind == "deadline" and _ok_phrase(g["who"], 2, 24):
        who = _CLEAN_SUBJECT.sub("", g["who"]) or g["who"]
        return _q(place, f"{who}要在多长时间内办理（{g['from'][:16]}起）？")
    if kind == "standard" and _ok_phrase(g["x"], 2, 18):
        return _q(place, f"{g['x']}的标准由谁来定？")
    if kind == "contents" and _ok_phrase(g["x"], 2, 22):
        x = _CLEAN_SUBJECT.sub("", g["x"]) or g["x"]
        return _q(place, f"{x}包括哪些？")
    if kind == "forbid" and _ok_phrase(g["x"], 4, 26):
        return _q(place, f"可以{g['x']}吗？")
    if kind == "entitled" and len(g["who"]) <= 28 and _ok_phrase(g["what"], 2, 20):
        if any(w in g["what"] for w in _NOT_HELP):
            return None
        who = g["who"].replace("，", "、")
        return _q(place, f"{who}能得到什么帮助？")
    if kind == "cases":
        pre = g["pre"].rstrip("，")
        if pre and (_ACTOR_BAD.search(pre) and not pre.startswith("对")):
            return None
        return _q(place, f"{pre}在什么情况下{g['main']}？" if pre else f"在什么情况下{g['main']}？")
    if kind == "who" and _ok_phrase(g["x"], 2, 24) and not _ACTOR_BAD.search(g["x"]):
        return _q(place, f"{g['x']}由谁{g['v']}？")
    if kind in ("may", "right", "duty") and _ok_phrase(g["x"], 2, 20) and not _ACTOR_BAD.search(g["x"]):
        if "下列" in g["y"] or "规定" == g["y"][-2:] or any(w in g["y"] for w in _NOT_HELP):
            return None
        if _Y_BAD.search(g["y"]) or (g.get("pre") and _ACTOR_BAD.search(g["pre"])):
            return None
        verb = {"may": "可以", "right": "有权", "duty": "要不要"}[kind]
        x = g["x"].replace("本市", "").replace("本省", "") or g["x"]
        pre = f"{g['pre']}，" if g.get("pre") else ""
        return _q(place, f"{pre}{x}{verb}{g['y']}{'吗' if kind != 'duty' else ''}？")
    return None


def pairs_for(law: Law, article: Article, topic: str) -> Iterator[dict]:
    place = place_of(law)
    seen_kinds: dict[str, int] = {}
    for sentence in _sentences(article.text):
        for kind, rx in RULES:
            if seen_kinds.get(kind, 0) >= (3 if kind in ("duty", "may", "forbid") else 1):
                continue
            m = rx.search(sentence)
            if not m:
                continue
            question = _question(kind, m, place)
            if not question:
                continue
            seen_kinds[kind] = seen_kinds.get(kind, 0) + 1
            body = _localise(sentence, law)
            if kind in ("contents", "cases"):
                body = _localise(article.text.replace("\n", ""), law)[:220]
            opener = {"forbid": "不可以。", "may": "可以。", "right": "有权。", "duty": "要。"}.get(kind, "")
            answer = f"{opener}《{law.title}》{article.label}规定：{body}"
            yield {"topic": topic, "question": question, "answer": answer,
                   "citations": [{"law": law.title, "article": article.label}],
                   "quote": sentence if kind not in ("contents", "cases") else article.text[:60], "kind": kind}


def generate(corpus_path: str | None = None) -> list[dict]:
    corpus = load_corpus(corpus_path or default_corpus_path())
    laws = {law.law_key: law for law in corpus.laws}
    out: list[dict] = []
    seen_q: set[str] = set()
    for art in corpus.articles:
        law = laws[art.law_key]
        if law.superseded or law.category == "司法解释":
            continue
        topic = topic_of(law)
        if topic is None:
            continue
        for pair in pairs_for(law, art, topic):
            if pair["question"] in seen_q:
                continue
            seen_q.add(pair["question"])
            out.append(pair)
    for i, p in enumerate(out, 1):
        p["id"] = f"gen-{i:04d}"
    return out


def main() -> int:
    pairs = generate(sys.argv[1] if len(sys.argv) > 1 else None)
    json.dump(pairs, sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")
    by: dict[str, int] = {}
    for p in pairs:
        by[p["kind"]] = by.get(p["kind"], 0) + 1
    sys.stderr.write(f"{len(pairs)} {by}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Answers that answer: find the sentence in the cited articles that states what was asked.

``question_kind`` reads what the question asks for (a period, an amount, who decides, where to
apply, what to do, a list of programs, or yes/no). ``compose`` then picks, from the curated
answer's cited articles and the best search hits, the sentence that states that thing, and
returns it with its source so the page can quote it. For "what subsidies are there" questions it
lists the programs named across the articles. A yes/no opener (能。/会。/可以。) is kept on a
curated answer only when the question is a yes/no question.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .tokenizer import expand_query, query_bigrams

KINDS = ("list", "period", "amount", "where", "who", "todo", "yesno", "general")

_KIND_RE: list[tuple[str, re.Pattern[str]]] = [
    ("list", re.compile(r"(有|能领|能拿|能享受|可以享受|可以领)(什么|哪些|啥)(补贴|补助|津贴|救助|福利|待遇|优待|照顾|政策|钱)"
                        r"|(补贴|补助|津贴|救助|福利|待遇|优待)(有|都有)(哪些|什么|啥)|有哪些(补贴|补助|救助|优待)")),
    ("contents", re.compile(r"包括(哪些|什么)|有哪些(内容|服务|项目|事项)|(什么|哪些)(内容|服务项目)")),
    ("period", re.compile(r"多久|多长时间|几天|多少天|几个月|多少日|几年|什么时候|何时|期限|多少个工作日|多少小时|几小时|几次")),
    ("amount", re.compile(r"多少钱|多少元|给多少|发多少|标准是多少|补多少|领多少|拿多少|多少补贴")),
    ("who", re.compile(r"谁(定|来定|决定|批|审批|负责|管|说了算|审核)|由谁|哪个部门(定|批|管|负责)|归谁管")),
    ("where", re.compile(r"(去|到|在|向)(哪|哪里|哪儿|哪个部门|什么地方)|找谁|找哪|哪里(办|申请|领|登记)|去哪")),
    ("todo", re.compile(r"怎么办|怎么(申请|办|处理|弄|做)|如何|怎样|什么手续|哪些手续|要带|带什么|哪些材料|什么材料|什么证件|哪些证件|流程|程序")),
    ("yesno", re.compile(r"能不能|可不可以|可以吗|能否|是否|会不会|要不要|有没有|算不算|行不行|行吗|对吗|吗[？?。！!]?$|么[？?]?$")),
]

_PATTERNS: dict[str, re.Pattern[str]] = {
    "period": re.compile(r"([0-9]+|[一二三四五六七八九十两百]+)(个)?(工作日|日|天|小时|个月|月|年|周)(内|以内|之内)?"
                         r"|每(年|半年|季度|月)|定期|期限"),
    "amount": re.compile(r"[0-9.]+(元|万元|%)|标准|比例|倍|金额|数额"),
    "who": re.compile(r"(人民政府|民政部门|乡镇|街道办事处|委员会|部门|机关|法院|联合会).{0,16}(确定|制定|决定|审批|负责|批准|公布|审核|核准|认定)"
                      r"|由.{1,24}(确定|决定|审批|负责|批准|办理)"),
    "where": re.compile(r"向.{1,40}(提出|申请|办理|投诉|举报|报告|求助|申请)|到.{1,30}(办理|申请|登记)|(户籍所在地|住所地|常住户口所在地|所在地)"),
    "contents": re.compile(r"包括|内容|服务[：:]|下列"),
    "todo": re.compile(r"可以|有权|申请|调解|诉讼|投诉|举报|提出|办理|要求|出具|提交|告知|报告"),
}
# Sentences of the curated answer's cited articles come first, other things equal.
TRUSTED_BONUS = 0.3
# A period or amount stated as a figure beats a word like 定期 or 标准.
_CONCRETE = re.compile(r"([0-9]+|[一二三四五六七八九十两百]+)(个)?(工作日|日|天|小时|个月|月|年|周|元|万元|%)|每(年|半年|季度|月)")
_YESNO_OPENER = re.compile(r"^(能|会|可以|不能|不会|不可以|是|不是|要|不要|有|没有|应当|不应当|需要|不需要|算|不算)[。，,！!]\s*")
_SENT_SPLIT = re.compile(r"(?<=[。；！？])|\n")
_PROGRAM_RE = re.compile(
    r"([\u4e00-\u9fa5]{2,12}?(?:护理补贴|生活补贴|高龄津贴|津贴|补助金|生活补助|补贴|补助|救助金|救助))")
_PROGRAM_BAD_START = ("的", "和", "或", "及", "给予", "发放", "享受", "相应", "一定", "必要", "适当", "有关", "其他", "按规定",
                      "根据", "对", "应当", "可以", "并", "等")
_PROGRAM_NOISE = ("扩大", "调整", "设立", "根据", "可以", "需要", "等费用", "情况", "范围", "个人缴费", "政府补贴",
                  "标准", "资金", "经费", "纳入", "适当", "提高", "给予", "专项补助", "补助资金")
_PROGRAM_CUT = re.compile(r"^.*?(给予|发放|享受|建立|实行|落实|提供|健全|完善|纳入|申请|领取|包括|以及|和|或者|及|、)")


@dataclass
class Quote:
    law: str
    article: str
    article_id: str
    sentence: str


@dataclass
class Composed:
    kind: str
    lead: str = ""                      # the sentence that answers, or "" when none states it
    quote: Quote | None = None
    programs: list[str] = field(default_factory=list)
    programs_sources: list[Quote] = field(default_factory=list)
    curated: str = ""                   # the curated answer, with a yes/no opener only for yes/no questions

    def to_dict(self) -> dict:
        return asdict(self)


def question_kind(question: str) -> str:
    q = question.strip()
    for kind, pattern in _KIND_RE:
        if pattern.search(q):
            return kind
    return "general"


def strip_opener(answer: str, kind: str) -> str:
    """Drop a leading 能。/会。… unless the question is a yes/no question."""
    if kind == "yesno":
        return answer
    return _YESNO_OPENER.sub("", answer, count=1)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_SPLIT.split(text) if len(s.strip()) >= 6]


def _relevance(sentence: str, grams: list[str], terms: list[str] | None = None) -> float:
    """Share of the question's bigrams in the sentence, plus half the share of its expanded
    legal terms (失火 -> 火灾, 临时救助), so a sentence in legal words still counts."""
    score = sum(1 for g in grams if g in sentence) / len(grams) if grams else 0.0
    if terms:
        score += 0.5 * sum(1 for t in terms if t in sentence) / len(terms)
    return score


def _with_items(sentence: str, text: str, limit: int = 220) -> str:
    """A sentence that introduces a list ("包括以下内容：") with the items that follow it."""
    if not sentence.endswith(("：", ":")):
        return sentence
    at = text.find(sentence)
    if at < 0:
        return sentence
    tail = text[at + len(sentence):].strip()
    items = [ln.strip() for ln in tail.split("\n") if ln.strip()]
    out = sentence
    for item in items:
        if len(out) + len(item) > limit:
            out += "……"
            break
        out += item
    return out


def best_sentence(question: str, kind: str, sources: list[Quote], trusted: int = 0) -> Quote | None:
    """The sentence of ``sources`` (in rank order) that states what ``kind`` asks for."""
    pattern = _PATTERNS.get(kind)
    grams = query_bigrams(question)
    terms = [t for t, w in expand_query(question) if len(t) >= 2 and w < 1.0]
    best: tuple[float, Quote] | None = None
    for rank, src in enumerate(sources):
        for s in sentences(src.sentence):
            rel = _relevance(s, grams, terms) + (TRUSTED_BONUS if rank < trusted else 0.0)
            if pattern is not None:
                if not pattern.search(s):
                    continue
                score = 1.0 + rel - 0.08 * rank
                if kind in ("period", "amount") and _CONCRETE.search(s):
                    score += 0.5
            else:
                score = rel - 0.08 * rank
            if best is None or score > best[0]:
                best = (score, Quote(src.law, src.article, src.article_id, _with_items(s, src.sentence)))
    if best is None:
        return None
    if pattern is None and best[0] <= 0.1:
        return None
    return best[1]


def programs(sources: list[Quote], limit: int = 8, question: str = "",
             trusted: int = 0) -> tuple[list[str], list[Quote]]:
    """Names of subsidy and assistance programs in ``sources`` (first seen first). Names from
    sources after the first ``trusted`` ones (the curated answer's citations) are kept only
    when they share a word with the question (so "80岁" does not list disability programs)."""
    names: list[str] = []
    where: list[Quote] = []
    words = [t for t, _ in expand_query(question) if len(t) >= 2] + query_bigrams(question) if question else []
    for i, src in enumerate(sources):
        for m in _PROGRAM_RE.finditer(src.sentence):
            name = _PROGRAM_CUT.sub("", m.group(1))
            while name.startswith(_PROGRAM_BAD_START):
                for bad in _PROGRAM_BAD_START:
                    if name.startswith(bad):
                        name = name[len(bad):]
                        break
            if len(name) < 4 or name in ("社会救助", "专项救助") or any(name in n for n in names):
                continue
            if any(w in name for w in _PROGRAM_NOISE):
                continue
            if question and i >= trusted and not any(w in name for w in words if w not in _GENERIC):
                continue
            shorter = [i for i, n in enumerate(names) if n in name]
            if shorter:  # a fuller name of a program already listed (护理补贴 -> 重度残疾人护理补贴)
                names[shorter[0]] = name
                where[shorter[0]] = Quote(src.law, src.article, src.article_id, name)
                continue
            names.append(name)
            where.append(Quote(src.law, src.article, src.article_id, name))
            if len(names) >= limit:
                return names, where
    return names, where


_GENERIC = {"补贴", "补助", "津贴", "救助", "什么", "哪些", "有什", "么补", "么补贴"}


def compose(question: str, sources: list[Quote], curated_answer: str = "", trusted: int = 0) -> Composed:
    """The answer card's content for ``question`` given its sources (cited articles first)."""
    kind = question_kind(question)
    out = Composed(kind=kind, curated=strip_opener(curated_answer, kind) if curated_answer else "")
    if kind == "list":
        out.programs, out.programs_sources = programs(sources, question=question, trusted=trusted)
        quote = best_sentence(question, "amount", sources[:3], trusted)
    elif kind in ("yesno", "general"):
        quote = best_sentence(question, "general", sources[:3], trusted)
    else:
        quote = best_sentence(question, kind, sources, trusted)
    if quote is not None:
        out.quote = quote
        out.lead = quote.sentence
    return out

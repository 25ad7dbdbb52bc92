"""Chinese tokenisation for policy search.

jieba in search mode (``cut_for_search``) emits both whole words and their
dictionary sub-words (最低生活保障 -> 最低 生活 保障 最低生活保障), which gives
BM25 recall on partial matches and precision on whole terms. A small
civil-affairs user dictionary keeps the programme names (低保, 特困人员,
临时救助 ...) whole. Query tokens carry weights: the user's own words weigh
1.0, expansions from synonyms.py weigh less.

The jieba tokenizer is created once per process and then only read.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any
from pathlib import Path

from .numerals import int_to_cn
from .synonyms import ABBREVIATIONS, NEGATED, SYNONYMS

USER_DICT = Path(__file__).with_name("userdict.txt")
EXPANSION_WEIGHT = 0.5
ABBREVIATION_WEIGHT = 0.9
NEGATED_WEIGHT = 0.3

# Function words and boiler-plate that carry no meaning for retrieval.
STOPWORDS = frozenset("""
的 了 和 与 及 或 或者 以及 等 是 在 对 由 为 其 之 并 且 而 但 但是 被 把 将 从 向 于 以 按照 依照 根据
这 那 这个 那个 这些 那些 它 他 她 他们 她们 我 我们 你 你们 您 自己 咱 咱们 本人
有 没有 没 也 都 就 还 又 再 很 太 要 想 会 能 可 可以 能够 应当 应 该 得 着 过 啊 吗 呢 吧 呀 嘛 哦 么
什么 怎么 怎么办 怎样 如何 怎么样 哪些 哪个 哪 哪里 哪儿 为什么 多少 几 谁 是否 是不是 有没有 能不能 可不可以 会不会
请问 请 一下 一个 一些 现在 已经 如果 因为 所以 可是 那么 然后 这样 那样 给 让 叫 跟 同 个 些 上 下 中 里 内 外
本 本条 本法 本条例 本办法 本规定 规定 下列 前款 第一款 第二款 有关 相关 其他 依法
""".split())

QUERY_STOPWORDS = frozenset("""
我家 我妈 我爸 家里 家里人 情况 问题 事情 东西 办法 知道 告诉 请教 咨询 听说 一般 政策 法律 规定 国家
""".split())

_PUNCT_RE = re.compile(r"^[\W_]+$", re.UNICODE)
_AGE_RE = re.compile(r"(\d{1,3})\s*(?:周岁|岁)")
_DAYS_RE = re.compile(r"(\d{1,3})\s*(?:天|日)")
_NUM_RE = re.compile(r"\d{1,4}")

_lock = threading.Lock()


@lru_cache(maxsize=1)
def get_jieba() -> Any:
    """A private, initialised jieba.Tokenizer with the civil-affairs dictionary."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        tk = jieba.Tokenizer()
        tk.initialize()
        if USER_DICT.exists():
            tk.load_userdict(str(USER_DICT))
    return tk


def _keep(token: str) -> bool:
    token = token.strip()
    if not token or token in STOPWORDS:
        return False
    if _PUNCT_RE.match(token):
        return False
    return True


def tokenize(text: str) -> list[str]:
    """Tokens for indexing (search-mode jieba, stop words and punctuation removed)."""
    tk = get_jieba()
    return [t.lower() for t in tk.cut_for_search(text, HMM=False) if _keep(t)]


def _number_expansions(query: str) -> list[str]:
    """Arabic numbers in questions -> the Chinese numerals the law uses."""
    extra: list[str] = []
    for m in _AGE_RE.finditer(query):
        n = int(m.group(1))
        if 0 < n < 200:
            extra += [int_to_cn(n), "周岁"]
            if n >= 80:
                extra += ["高龄"]
            if n >= 60:
                extra += ["老年人"]
    for m in _DAYS_RE.finditer(query):
        n = int(m.group(1))
        if 0 < n < 1000:
            extra += [int_to_cn(n), "日内"]
    for m in _NUM_RE.finditer(query):
        n = int(m.group(0))
        if 0 < n < 10000:
            extra.append(int_to_cn(n))
    return extra


def expand_query(query: str) -> list[tuple[str, float]]:
    """Weighted query tokens: [(token, weight)], own words first, no duplicates.

    A token that is both typed and produced by expansion keeps weight 1.0. One answer uses the
    question's tokens four times (BM25, Q&A matching, snippets, the answer card): they are
    computed once and kept for the last few questions (``clear_query_cache``).
    """
    return list(_expand_cached(query))


def clear_query_cache() -> None:
    """Forget the questions tokenised so far (the latency bench times new questions)."""
    _expand_cached.cache_clear()


@lru_cache(maxsize=256)
def _expand_cached(query: str) -> tuple[tuple[str, float], ...]:
    return tuple(_expand(query))


def _expand(query: str) -> list[tuple[str, float]]:
    weights: dict[str, float] = {}
    for t in tokenize(query):
        if t in QUERY_STOPWORDS:
            continue
        weights[t] = 1.0
    expansions: list[tuple[str, float]] = []
    for key, terms in ABBREVIATIONS.items():
        if key in query:
            expansions.extend((t, ABBREVIATION_WEIGHT) for t in terms)
    for key, terms in SYNONYMS.items():
        if key in query:
            expansions.extend((t, EXPANSION_WEIGHT) for t in terms)
    expansions.extend((t, EXPANSION_WEIGHT) for t in _number_expansions(query))
    for term, weight in expansions:
        # The whole legal term gets the expansion weight; its sub-words
        # (生活, 保障 for 最低生活保障) only half of it, so that expansion
        # does not flood the query with common words. A phrase that jieba
        # does not know as one word (索取财物) gives each part the full weight.
        parts = tokenize(term)
        whole = term.lower() in parts
        for t in parts:
            w = weight if (t == term.lower() or not whole) else weight * 0.5
            if weights.get(t, 0.0) < w:
                weights[t] = w
    for key, terms in NEGATED.items():
        if key in query:
            for t in terms:
                if t in weights:
                    weights[t] = NEGATED_WEIGHT
    return list(weights.items())


def highlight_terms(query: str) -> list[str]:
    """Surface strings to mark in snippets: typed words and their expansions."""
    terms = {t for t, _ in expand_query(query)}
    # Whole expansion phrases too (e.g. 最低生活保障), so marks are not fragmented.
    for table in (ABBREVIATIONS, SYNONYMS):
        for key, expansions in table.items():
            if key in query:
                terms.update(expansions)
    return sorted((t for t in terms if len(t) >= 2), key=len, reverse=True)


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_BIGRAM_FILLER = set("的了吗呢吧啊么我你他她它们是在有没要会能可以怎什哪谁这那个些就都还也么去里点")


def query_bigrams(query: str) -> list[str]:
    """Distinct character bigrams of the typed question, without pure filler pairs."""
    out: list[str] = []
    for run in _CJK_RUN.findall(query):
        for i in range(len(run) - 1):
            bg = run[i:i + 2]
            if bg[0] in _BIGRAM_FILLER and bg[1] in _BIGRAM_FILLER:
                continue
            if bg not in out:
                out.append(bg)
    return out

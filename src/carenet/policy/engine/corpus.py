"""Load the lawrefbook corpus and split each law into articles (第X条).

The corpus is one JSON document per line with keys ``path``, ``category``,
``title``, ``version_date`` and ``text`` (Markdown, one article per line).

Terminology used here:

* a *document* is one line of the corpus (one file of the original book);
* a *law* is a document that contains at least one article; 民法典 is stored as
  eight documents (one per 编) that share the title and version, so one law
  may span several documents that are *parts*, not versions;
* a law is *superseded* when another document with the same normalised title
  has a newer version date (or it is an exact duplicate of another document).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .numerals import CHINESE_NUMERAL_CHARS, cn_to_int

ARTICLE_RE = re.compile(
    r"^第([" + CHINESE_NUMERAL_CHARS + r"]+)条(之[一二三四五六七八九十]+)?[ \u3000\u2002]*"
)
HEADING_RE = re.compile(r"^(#{1,6})\s*(.*)$")
HEADER_DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
INFO_END = "<!-- INFO END -->"
WS_RE = re.compile(r"[\s\u3000\u2002\u2003]+")

# Regions that appear as DLC/<region>地方法规 in the corpus paths.
PROVINCE_NAMES = {
    "上海": "上海市", "北京": "北京市", "重庆": "重庆市", "天津": "天津市",
    "山东": "山东省", "河南": "河南省", "浙江": "浙江省", "广东": "广东省",
}
CITY_RE = re.compile(r"^([\u4e00-\u9fa5]{2,4}?市)")

# Display labels for the top-level categories of national law.
NATIONAL_CATEGORIES = {
    "宪法", "宪法相关法", "民法典", "民法商法", "行政法", "经济法", "社会法",
    "刑法", "诉讼与非诉讼程序法", "行政法规", "部门规章", "司法解释", "案例", "其他",
}


@dataclass
class Law:
    law_key: str          # stable id: hash of the corpus path
    path: str
    title: str
    norm_title: str
    category: str         # display category: 行政法规, 地方性法规, 司法解释 ...
    level: str            # "national" or "local"
    region: str           # "" for national law, else the province, e.g. "上海"
    city: str             # e.g. "青岛市" for a city regulation, else ""
    version_date: str | None   # as given by the corpus
    effective_date: str | None  # version_date, or the last date in the header
    part: str = ""        # e.g. "人格权编" for the parts of 民法典
    superseded: bool = False
    superseded_by: str | None = None  # law_key of the newer version
    article_count: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Article:
    article_id: str       # "<law_key>-<number>" (+ ".<n>" for 第X条之n)
    law_key: str
    number: int           # 120 for 第一百二十条
    number_cn: str        # "一百二十"
    suffix: str           # "" or "之一"
    chapter: str          # "第二章 最低生活保障 › 第一节 ..." ("" if none)
    text: str             # article body without the "第X条" label; paragraphs joined by "\n"

    @property
    def label(self) -> str:
        return f"第{self.number_cn}条{self.suffix}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Corpus:
    laws: list[Law] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)


def normalise_title(title: str) -> str:
    """Normalise a law title so that versions of the same law compare equal."""
    t = WS_RE.sub("", title)
    t = t.replace("（", "(").replace("）", ")")
    for ch in "、，,《》〈〉“”\"'·":
        t = t.replace(ch, "")
    return t


def _law_key(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:10]


def _infer_level_region(path: str, category: str, title: str) -> tuple[str, str, str, str]:
    """Return (display category, level, region, city)."""
    if path.startswith("DLC/") or "地方法规" in category:
        m = re.match(r"DLC/([\u4e00-\u9fa5]+?)地方法规", path)
        region = m.group(1) if m else ""
        if not region:
            for short, full in PROVINCE_NAMES.items():
                if title.startswith(full) or title.startswith(short):
                    region = short
                    break
        city = ""
        cm = CITY_RE.match(title)
        if cm and cm.group(1) != PROVINCE_NAMES.get(region):
            city = cm.group(1)
        display = category.rsplit("/", 1)[-1] or "地方性法规"
        return display, "local", region, city
    top = category.split("/", 1)[0] if category else "其他"
    return top, "national", "", ""


def _header_date(header_lines: list[str]) -> str | None:
    dates = []
    for line in header_lines:
        for y, m, d in HEADER_DATE_RE.findall(line):
            dates.append(f"{int(y):04d}-{int(m):02d}-{int(d):02d}")
    return max(dates) if dates else None


def _clean_heading(text: str) -> str:
    return WS_RE.sub(" ", text).strip()


def parse_document(doc: dict) -> tuple[Law, list[Article]]:
    """Split one corpus document into a Law and its Articles."""
    path = doc["path"]
    title = (doc.get("title") or "").strip()
    category, level, region, city = _infer_level_region(path, doc.get("category") or "", title)
    key = _law_key(path)
    text = doc.get("text") or ""
    lines = text.split("\n")

    header: list[str] = []
    body_start = 0
    if INFO_END in text:
        for i, line in enumerate(lines):
            if line.strip() == INFO_END:
                header = lines[:i]
                body_start = i + 1
                break

    part = ""
    h1_seen = 0
    for line in header:
        m = HEADING_RE.match(line)
        if m and len(m.group(1)) == 1:
            h1_seen += 1
            if h1_seen == 2:
                part = _clean_heading(m.group(2))

    articles: list[Article] = []
    heading_stack: list[tuple[int, str]] = []
    current: dict | None = None
    seen_ids: set[str] = set()

    def flush() -> None:
        if current is None:
            return
        body = "\n".join(p for p in current["paras"] if p)
        aid = f"{key}-{current['number']}"
        if current["suffix"]:
            aid += "." + str(cn_to_int(current["suffix"][1:]))
        # Very rarely a law repeats an article number (typos in the source);
        # keep the id unique.
        base, n = aid, 2
        while aid in seen_ids:
            aid = f"{base}~{n}"
            n += 1
        seen_ids.add(aid)
        articles.append(Article(
            article_id=aid, law_key=key, number=current["number"],
            number_cn=current["number_cn"], suffix=current["suffix"],
            chapter=current["chapter"], text=body,
        ))

    for line in lines[body_start:]:
        stripped = line.strip()
        if not stripped:
            continue
        hm = HEADING_RE.match(stripped)
        if hm:
            flush()
            current = None
            level_n = len(hm.group(1))
            heading = _clean_heading(hm.group(2))
            heading_stack = [(lv, h) for lv, h in heading_stack if lv < level_n]
            if heading and not (level_n == 1 and heading in (title, part)):
                heading_stack.append((level_n, heading))
            continue
        am = ARTICLE_RE.match(stripped)
        if am:
            flush()
            number_cn = am.group(1)
            try:
                number = cn_to_int(number_cn)
            except ValueError:
                number = 0
            current = {
                "number": number, "number_cn": number_cn, "suffix": am.group(2) or "",
                "chapter": " › ".join(h for _, h in heading_stack),
                "paras": [stripped[am.end():].strip()],
            }
            continue
        if current is not None:
            current["paras"].append(stripped)
    flush()

    law = Law(
        law_key=key, path=path, title=title, norm_title=normalise_title(title),
        category=category, level=level, region=region, city=city,
        version_date=doc.get("version_date"),
        effective_date=doc.get("version_date") or _header_date(header),
        part=part, article_count=len(articles),
    )
    return law, articles


def mark_superseded(laws: list[Law]) -> None:
    """Mark older versions and duplicates of the same law as superseded.

    Documents are grouped by (normalised title, part): the eight 编 of
    民法典 share a title but are parts, never versions of one another.
    Within a group the newest effective date wins and documents with an
    older date are superseded by it; among documents with the newest date
    (exact duplicates stored under two paths) the one with the most
    articles is kept.
    """
    groups: dict[tuple[str, str], list[Law]] = defaultdict(list)
    for law in laws:
        groups[(law.norm_title, law.part)].append(law)
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda x: (x.effective_date or "", x.article_count, x.path), reverse=True)
        keep = group[0]
        for law in group[1:]:
            law.superseded = True
            law.superseded_by = keep.law_key


# Repealed documents whose successor carries a different title, so that the
# title rule above cannot see it. Only entries we are sure of: the Supreme
# People's Court repealed its Marriage Law interpretations when the Civil
# Code took effect (法释〔2020〕16号, 2021-01-01).
KNOWN_REPLACEMENTS: dict[str, str] = {
    "最高人民法院关于适用《中华人民共和国婚姻法》若干问题的解释（一）":
        "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）",
    "最高人民法院关于适用《中华人民共和国婚姻法》若干问题的解释（二）":
        "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）",
    "最高人民法院关于适用《中华人民共和国婚姻法》若干问题的解释（二）的补充规定":
        "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）",
    "最高人民法院关于适用《中华人民共和国婚姻法》若干问题的解释（三）":
        "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）",
}


def mark_replaced(laws: list[Law]) -> None:
    """Apply KNOWN_REPLACEMENTS (only when the successor is in the corpus)."""
    by_title: dict[str, Law] = {}
    for law in laws:
        if not law.superseded:
            by_title[law.norm_title] = law
    for law in laws:
        new_title = KNOWN_REPLACEMENTS.get(law.title)
        if new_title and not law.superseded:
            successor = by_title.get(normalise_title(new_title))
            if successor is not None:
                law.superseded = True
                law.superseded_by = successor.law_key


def iter_documents(path: str | Path) -> Iterator[dict]:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)


def load_corpus(path: str | Path, titles: Iterable[str] | None = None) -> Corpus:
    """Parse the corpus. ``titles`` restricts it to laws with those titles (for tests).

    Documents without any article (index pages, court cases) are skipped.
    """
    wanted = {normalise_title(t) for t in titles} if titles is not None else None
    corpus = Corpus()
    for doc in iter_documents(path):
        if wanted is not None and normalise_title(doc.get("title") or "") not in wanted:
            continue
        law, articles = parse_document(doc)
        if not articles:
            continue
        corpus.laws.append(law)
        corpus.articles.extend(articles)
    mark_superseded(corpus.laws)
    mark_replaced(corpus.laws)
    return corpus


def default_corpus_path() -> Path:
    """Where the corpus lives in this deployment (override with CARENET_LAW_CORPUS)."""
    import os

    env = os.environ.get("CARENET_LAW_CORPUS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    # <repo>/src/carenet/policy/engine/corpus.py -> <repo>
    repo = here.parents[4]
    for candidate in (
        repo / "data" / "laws" / "lawrefbook.jsonl.gz",
        repo.parent / "shared" / "data" / "laws" / "lawrefbook.jsonl.gz",
    ):
        if candidate.exists():
            return candidate
    return repo / "data" / "laws" / "lawrefbook.jsonl.gz"

"""HTML-safe snippets with matching terms wrapped in <mark>.

Everything that is not a <mark> tag is HTML-escaped, so the output can be
rendered as-is (Django: mark_safe) even when the law text or the query
contains markup characters.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache


@lru_cache(maxsize=512)
def _pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    terms = tuple(t for t in terms if t)
    if not terms:
        return None
    ordered = sorted(set(terms), key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)


def mark(text: str, terms: list[str] | tuple[str, ...]) -> str:
    """Escape ``text`` and wrap every occurrence of any term in <mark>."""
    pat = _pattern(tuple(terms))
    if pat is None:
        return html.escape(text)
    out: list[str] = []
    pos = 0
    for m in pat.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        out.append("<mark>" + html.escape(m.group(0)) + "</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def best_window(text: str, terms: list[str] | tuple[str, ...], width: int) -> tuple[int, int]:
    """The [start, end) window of ``width`` chars that covers the most distinct terms."""
    if len(text) <= width:
        return 0, len(text)
    pat = _pattern(tuple(terms))
    if pat is None:
        return 0, width
    matches = [(m.start(), m.group(0).lower()) for m in pat.finditer(text)]
    if not matches:
        return 0, width
    best = (-1, -1, 0)
    for i, (start, _) in enumerate(matches):
        lo = max(0, start - width // 6)
        hi = lo + width
        seen = {t for s, t in matches[i:] if s < hi - 1}
        weight = sum(len(t) for t in seen)
        if weight > best[0] or (weight == best[0] and best[1] < 0):
            best = (weight, lo, 0)
    lo = best[1]
    hi = min(len(text), lo + width)
    lo = max(0, hi - width)
    return lo, hi


def snippet(text: str, terms: list[str] | tuple[str, ...], width: int = 160) -> str:
    """A ``width``-character excerpt around the best match, escaped and marked."""
    flat = text.replace("\n", " ")
    lo, hi = best_window(flat, terms, width)
    body = mark(flat[lo:hi], terms)
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(flat) else "")

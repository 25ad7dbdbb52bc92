"""Policy search pages: the public elder page, the staff search, the Q&A editor and a JSON API."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carenet.core.permissions import needs, require
from carenet.core.roles import can
from carenet.policy import selectors, services
from carenet.policy.engine.qa import ask, compose_answer
from carenet.policy.engine.search import Filters
from carenet.policy.forms import QAPairForm, format_citations
from carenet.policy.models import QAPair
from carenet.policy.runtime import get_searcher, index_building

MAX_QUERY = 200
PAGE = 20


def _query(request) -> str:
    return (request.GET.get("q") or "").strip()[:MAX_QUERY]


def _filters(request, searcher) -> Filters:
    level = request.GET.get("level") or None
    if level not in (None, "national", "local"):
        level = None
    category = request.GET.get("category") or None
    region = request.GET.get("region") or None
    if searcher is not None:
        facets = searcher.facets()
        if category and category not in dict(facets["categories"]):
            category = None
        if region and region not in dict(facets["regions"]):
            region = None
    return Filters(category=category, level=level, region=region,
                   include_superseded=request.GET.get("superseded") == "1")


def _safe_hits(hits):
    # snippet_html is built by the engine: everything escaped except <mark> tags.
    for h in hits:
        h.snippet_html = mark_safe(h.snippet_html)  # noqa: S308
    return hits


def _citation_links(searcher, citations):
    out = []
    for c in citations or []:
        hit = searcher.find_article(c["law"], c["article"]) if searcher else None
        out.append({"law": c["law"], "article": c["article"], "article_id": hit.article_id if hit else None,
                    "text": hit.text if hit else ""})
    return out


@require_GET
def public_search(request):
    """One box, large type, the answer first. No login."""
    q = _query(request)
    searcher = get_searcher()
    ctx = {"q": q, "index_missing": searcher is None, "index_building": searcher is None and index_building(), "answer": None, "hits": [], "citations": []}
    if not q:
        ctx["examples"] = selectors.example_questions()
    if q and searcher is not None:
        answer = ask(q, searcher, selectors.qa_matcher(), k=5)
        ctx["answer"] = answer.qa.pair if answer.qa else None
        ctx["citations"] = _citation_links(searcher, answer.qa.pair["citations"]) if answer.qa else []
        ctx["composed"] = answer.composed
        ctx["hits"] = _safe_hits(answer.hits)
    return render(request, "policy/public.html", ctx)


@login_required
@require_GET
def staff_search(request):
    q = _query(request)
    searcher = get_searcher()
    ctx = {"q": q, "index_missing": searcher is None, "index_building": searcher is None and index_building(), "hits": [], "answer": None, "alternatives": [],
           "can_edit": can(request.user, "policy.edit")}
    if searcher is None:
        return render(request, "policy/staff_search.html", ctx)
    filters = _filters(request, searcher)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    ctx.update({"filters": filters, "facets": searcher.facets(), "page": page, "dense": searcher.dense_status()})
    if q:
        t0 = time.perf_counter()
        answer = ask(q, None, selectors.qa_matcher())
        hits, total = searcher.search_page(q, k=PAGE + 1, filters=filters, offset=(page - 1) * PAGE)
        ctx["composed"] = compose_answer(q, searcher, answer.qa, hits[:5]) if page == 1 else None
        ctx["took_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        ctx["has_next"] = len(hits) > PAGE
        ctx["hits"] = _safe_hits(hits[:PAGE])
        ctx["total"] = total
        if answer.qa:
            ctx["answer"] = answer.qa.pair
            ctx["answer_score"] = answer.qa.score
            ctx["citations"] = _citation_links(searcher, answer.qa.pair["citations"])
        ctx["alternatives"] = [m.pair for m in answer.alternatives]
    params = request.GET.copy()
    params.pop("page", None)
    ctx["query_string"] = params.urlencode()
    return render(request, "policy/staff_search.html", ctx)


@require_GET
def article_detail(request, article_id: str):
    searcher = get_searcher()
    if searcher is None:
        return render(request, "policy/article.html", {"index_missing": True, "index_building": index_building()})
    q = _query(request)
    hit = searcher.get(article_id, query=q)
    if hit is None:
        raise Http404(_("No such article."))
    law = searcher.law(hit.law_key) or {}
    newer = searcher.law(law["superseded_by"]) if law.get("superseded_by") else None
    related = searcher.related_articles(article_id)
    return render(request, "policy/article.html", {
        "hit": hit, "law": law, "newer": newer, "q": q,
        "body_html": mark_safe(hit.snippet_html),  # noqa: S308 - escaped by the engine
        "neighbours": related["neighbours"], "similar": _safe_hits(related["similar"]),
    })


@require_GET
def api_search(request):
    """GET /policy/api/search?q=...&k=10&category=&level=&region=&superseded=1 -> JSON."""
    q = _query(request)
    searcher = get_searcher()
    if searcher is None:
        return JsonResponse({"error": "index_missing",
                             "detail": "Run: python manage.py build_policy_index"}, status=503)
    if not q:
        return JsonResponse({"error": "missing_query", "detail": "q is required"}, status=400)
    try:
        k = min(50, max(1, int(request.GET.get("k", "10"))))
    except ValueError:
        k = 10
    t0 = time.perf_counter()
    answer = ask(q, searcher, selectors.qa_matcher(), k=k, filters=_filters(request, searcher))
    data = answer.to_dict()
    for h in data["hits"]:
        h["url"] = request.build_absolute_uri(f"/policy/article/{h['article_id']}/")
    data["took_ms"] = round((time.perf_counter() - t0) * 1000, 2)
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


# ---------------------------------------------------------------- Q&A editor
@needs("policy.edit")
def qa_list(request):
    f = {k: (request.GET.get(k) or "").strip() for k in ("q", "status", "topic")}
    page = Paginator(selectors.search_pairs(**f), 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "policy/qa_list.html", {
        "page": page, "f": f, "statuses": QAPair.Status.choices, "topics": selectors.topics(),
        "can_publish": can(request.user, "policy.publish"), "query_string": params.urlencode(),
    })


@needs("policy.edit")
def qa_edit(request, pk: int | None = None):
    pair = get_object_or_404(QAPair, pk=pk) if pk else None
    if pair and pair.status == QAPair.Status.PUBLISHED:
        require(request.user, "policy.publish")
    if request.method == "POST":
        form = QAPairForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if pair is None:
                    pair = services.create_pair(request.user, **data)
                    messages.success(request, _("Saved as a draft."))
                else:
                    pair = services.update_pair(request.user, pair, **data)
                    messages.success(request, _("Saved."))
                return redirect("policy:qa_list")
            except ValidationError as exc:
                for msg in exc.messages:
                    form.add_error("citations", msg)
    else:
        initial = {}
        if pair:
            initial = {"question": pair.question, "answer": pair.answer, "topic": pair.topic,
                       "citations": format_citations(pair.citations)}
        form = QAPairForm(initial=initial)
    return render(request, "policy/qa_form.html", {"form": form, "pair": pair,
                                                    "can_publish": can(request.user, "policy.publish")})


@login_required
@require_POST
def qa_publish(request, pk: int):
    pair = get_object_or_404(QAPair, pk=pk)
    publish = request.POST.get("publish") == "1"
    try:
        services.set_published(request.user, pair, publish)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("policy:qa_edit", pk=pk)
    messages.success(request, _("Published.") if publish else _("Withdrawn to draft."))
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return redirect(nxt)
    return redirect("policy:qa_list")

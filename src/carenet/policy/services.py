"""The only place that writes policy data. Each write is atomic and audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require
from carenet.policy.models import QAPair
from carenet.policy.runtime import get_searcher


def check_citations(citations: list[dict]) -> list[str]:
    """Errors for citations that do not resolve to a current article (empty = fine).

    Without a built index the citations cannot be checked and are accepted.
    """
    errors = []
    if not citations:
        return [_("Cite at least one article.")]
    searcher = get_searcher()
    if searcher is None:
        return []
    for c in citations:
        if searcher.find_article(c.get("law", ""), c.get("article", "")) is None:
            errors.append(_("《%(law)s》%(article)s was not found in the current laws.")
                          % {"law": c.get("law", ""), "article": c.get("article", "")})
    return errors


def _validate(citations):
    errors = check_citations(citations)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_pair(user, *, question: str, answer: str, citations: list[dict], topic: str = "") -> QAPair:
    require(user, "policy.edit")
    _validate(citations)
    pair = QAPair.objects.create(question=question.strip(), answer=answer.strip(), citations=citations,
                                 topic=topic.strip(), status=QAPair.Status.DRAFT,
                                 created_by=user, updated_by=user)
    audit.record(AuditLog.Action.CREATE, pair, actor=user, after=audit.snapshot(pair))
    return pair


@transaction.atomic
def update_pair(user, pair: QAPair, *, question: str, answer: str, citations: list[dict],
                topic: str = "") -> QAPair:
    """Edit a pair. Editing a published pair needs publish rights; otherwise it returns to draft."""
    require(user, "policy.edit")
    pair = QAPair.objects.select_for_update().get(pk=pair.pk)
    if pair.status == QAPair.Status.PUBLISHED:
        require(user, "policy.publish")
    _validate(citations)
    before = audit.snapshot(pair)
    pair.question, pair.answer, pair.citations, pair.topic = question.strip(), answer.strip(), citations, topic.strip()
    pair.updated_by = user
    pair.save()
    audit.record(AuditLog.Action.UPDATE, pair, actor=user, before=before, after=audit.snapshot(pair))
    return pair


@transaction.atomic
def set_published(user, pair: QAPair, published: bool) -> QAPair:
    require(user, "policy.publish")
    pair = QAPair.objects.select_for_update().get(pk=pair.pk)
    if published:
        _validate(pair.citations)
    before = audit.snapshot(pair)
    pair.status = QAPair.Status.PUBLISHED if published else QAPair.Status.DRAFT
    pair.published_at = timezone.now() if published else None
    pair.updated_by = user
    pair.save()
    audit.record(AuditLog.Action.UPDATE, pair, actor=user, before=before, after=audit.snapshot(pair),
                 note="published" if published else "unpublished")
    return pair

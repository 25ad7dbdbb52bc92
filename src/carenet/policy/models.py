"""Curated policy questions and answers. The law corpus itself lives in the search index, not the database."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class QAPair(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"), help_text=_("Plain language, written from the cited articles."))
    citations = models.JSONField(
        _("citations"), default=list,
        help_text=_('A list of {"law": law title, "article": "第X条"}; each must exist in the corpus.'),
    )
    topic = models.CharField(_("topic"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    starter_id = models.CharField(_("starter id"), max_length=20, blank=True, default="", db_index=True,
                                  help_text=_("Set for pairs loaded from the starter set."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("updated by"))

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("policy Q&A")
        verbose_name_plural = _("policy Q&As")

    def __str__(self):
        return self.question[:80]

    def as_engine_dict(self) -> dict:
        return {"id": self.pk, "question": self.question, "answer": self.answer,
                "citations": self.citations, "topic": self.topic}

"""Loading the starter Q&A set into the database (used by a data migration and by load_policy_qa)."""

from __future__ import annotations

from django.utils import timezone

from carenet.policy.engine.qa import load_starter


def load_starter_into(model, *, publish: bool = True, update: bool = False, path=None) -> dict:
    """Create pairs that are missing (matched by starter id). With update=True, overwrite
    pairs that still carry the starter text's id (staff edits are overwritten too)."""
    created = updated = skipped = 0
    existing = {p.starter_id: p for p in model.objects.exclude(starter_id="")}
    now = timezone.now()
    for item in load_starter(path):
        fields = {"question": item["question"], "answer": item["answer"], "citations": item["citations"],
                  "topic": item.get("topic", "")}
        pair = existing.get(item["id"])
        if pair is None:
            model.objects.create(starter_id=item["id"], status="published" if publish else "draft",
                                 published_at=now if publish else None, **fields)
            created += 1
        elif update:
            for k, v in fields.items():
                setattr(pair, k, v)
            pair.save()
            updated += 1
        else:
            skipped += 1
    return {"created": created, "updated": updated, "skipped": skipped}

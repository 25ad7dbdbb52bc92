"""Loading the starter Q&A set into the database (used by a data migration and by load_policy_qa)."""

from __future__ import annotations

from django.utils import timezone

from carenet.policy.engine.qa import STARTER_PATH, load_starter

BANK_PATH = STARTER_PATH.with_name("qa_bank.json")


def load_starter_into(model, *, publish: bool = True, update: bool = False, path=None) -> dict:
    """Create pairs that are missing (matched by starter id). With update=True, overwrite
    pairs that still carry the starter text's id (staff edits are overwritten too)."""
    created = updated = skipped = 0
    existing = {p.starter_id: p for p in model.objects.exclude(starter_id="")}
    now = timezone.now()
    new = []
    for item in load_starter(path):
        fields = {"question": item["question"], "answer": item["answer"], "citations": item["citations"],
                  "topic": item.get("topic", "")}
        pair = existing.get(item["id"])
        if pair is None:
            new.append(model(starter_id=item["id"], status="published" if publish else "draft",
                             published_at=now if publish else None, **fields))
            created += 1
        elif update:
            for k, v in fields.items():
                setattr(pair, k, v)
            pair.save()
            updated += 1
        else:
            skipped += 1
    model.objects.bulk_create(new, batch_size=500)
    return {"created": created, "updated": updated, "skipped": skipped}


def load_bank_into(model, *, publish: bool = True, update: bool = False) -> dict:
    """The generated bank (data/qa_bank.json, ids gen-NNNN): see engine/bankgen.py."""
    return load_starter_into(model, publish=publish, update=update, path=BANK_PATH)

"""Load the Q&A bank generated from the civil-affairs laws (data/qa_bank.json) as published pairs.

Staff edit, withdraw or publish them in the Q&A editor like any other pair (issue 17).
"""

from django.db import migrations


def load(apps, schema_editor):
    from carenet.policy.starter import load_bank_into

    load_bank_into(apps.get_model("policy", "QAPair"))


def unload(apps, schema_editor):
    apps.get_model("policy", "QAPair").objects.filter(starter_id__startswith="gen-").delete()


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_load_starter_qa")]
    operations = [migrations.RunPython(load, unload)]

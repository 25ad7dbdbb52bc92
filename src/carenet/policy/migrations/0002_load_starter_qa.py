"""Load the curated starter Q&A set (src/carenet/policy/data/qa_starter.json) as published pairs."""

from django.db import migrations


def load(apps, schema_editor):
    from carenet.policy.starter import load_starter_into

    load_starter_into(apps.get_model("policy", "QAPair"))


def unload(apps, schema_editor):
    apps.get_model("policy", "QAPair").objects.exclude(starter_id="").delete()


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]

from django.db import migrations, models


class Migration(migrations.Migration):
    """The big screen counts elders by street and age band: an index on (division, birth_date) serves it."""

    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(fields=["division", "birth_date"], name="people_resi_div_birth_idx"),
        ),
    ]

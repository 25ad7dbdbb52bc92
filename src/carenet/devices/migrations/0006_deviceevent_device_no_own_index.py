"""The event table's own index on device_id goes: (device_id, ts) and the unique (device_id, event_id[, ts])
lead with device_id and serve every lookup by device. Each index costs every stored event (issue 15: COPY of
event rows went from ~40,000 to ~58,000 rows/s without it). Only the index is dropped: Django's AlterField
would drop and re-add the foreign key, re-checking every stored row."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0005_device_hold_s_device_semantics'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "devices_deviceevent_device_id_5294ea65"',
                'CREATE INDEX IF NOT EXISTS "devices_deviceevent_device_id_5294ea65" '
                'ON "devices_deviceevent" ("device_id")')],
            state_operations=[migrations.AlterField(
                model_name='deviceevent',
                name='device',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                        related_name='events', to='devices.device'),
            )],
        ),
    ]

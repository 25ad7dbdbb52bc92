"""Settlement lines without per-row foreign keys: their references are checked set-based.

A month writes a million lines; four deferred foreign keys cost four index probes and row locks per line at
commit (229 s of an 805 s settlement). Instead, on PostgreSQL a statement-level trigger checks all the lines an
INSERT or UPDATE statement wrote in one query per reference (one COPY: one check), and statement-level triggers
on the referenced tables refuse a DELETE that would leave a line pointing nowhere. SQLite (development and
tests) gets no trigger: a trigger naming another table breaks Django's table rebuilds there ("no such table"
while the table is renamed); its one writer and Django's on_delete=PROTECT keep the lines' references.
The correction reference (null on all but adjustment lines) is checked the same way and its one-line-per-
correction unique index becomes partial (no entry for the million lines without one). The single-column
indexes on provider (the (provider, month) index serves it) and month (lines are read by run) go too.
"""
import django.db.models.deletion
from django.db import migrations, models

LINE = "homecare_settlementline"
# line column -> the table it refers to
REFS = {"run_id": "homecare_settlementrun", "provider_id": "homecare_provider", "elder_id": "people_elderprofile",
        "order_id": "homecare_order", "correction_id": "homecare_correction"}
FEW = {"run_id", "provider_id", "elder_id"}


def _pg_sql():
    # few distinct runs, providers and elders among a million lines: each is looked up once
    checks = "\n".join(f"""
    SELECT n.v INTO missing FROM (SELECT {'DISTINCT' if col in FEW else ''} n.{col} AS v FROM new_lines n) n
     WHERE n.v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = n.v) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'insert or update on table "{LINE}" violates reference "{col}": key (%s) is not present in table "{table}"',
            missing);
    END IF;""" for col, table in REFS.items())
    yield f"""
CREATE OR REPLACE FUNCTION {LINE}_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE missing bigint;
BEGIN{checks}
    RETURN NULL;
END $$"""
    for event in ("INSERT", "UPDATE"):
        yield f"""
CREATE TRIGGER {LINE}_refs_{event.lower()} AFTER {event} ON {LINE}
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION {LINE}_check_refs()"""
    yield f"""
CREATE OR REPLACE FUNCTION {LINE}_guard_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE used bigint;
BEGIN
    EXECUTE format('SELECT g.id FROM gone g WHERE EXISTS (SELECT 1 FROM {LINE} l WHERE l.%I = g.id) LIMIT 1',
                   TG_ARGV[0]) INTO used;
    IF used IS NOT NULL THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'delete on table "%s" violates reference "%s" of "{LINE}": key (%s) is still referenced',
            TG_TABLE_NAME, TG_ARGV[0], used);
    END IF;
    RETURN NULL;
END $$"""
    for col, table in REFS.items():
        yield f"""
CREATE TRIGGER {table}_guard_{LINE} AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {LINE}_guard_refs('{col}')"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        for sql in _pg_sql():
            cur.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cur:
        if vendor == "postgresql":
            for col, table in REFS.items():
                cur.execute(f"DROP TRIGGER IF EXISTS {table}_guard_{LINE} ON {table}")
            for event in ("insert", "update"):
                cur.execute(f"DROP TRIGGER IF EXISTS {LINE}_refs_{event} ON {LINE}")
            cur.execute(f"DROP FUNCTION IF EXISTS {LINE}_check_refs(), {LINE}_guard_refs()")


class Migration(migrations.Migration):

    dependencies = [
        ('homecare', '0002_absence_meal_runs_reminders'),
        ('people', '0002_resident_division_birth_idx'),
    ]

    operations = [
        migrations.AlterField(
            model_name='settlementline',
            name='elder',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.elderprofile'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='order',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='homecare.order'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='provider',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='homecare.provider'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='run',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='line_set', to='homecare.settlementrun'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='month',
            field=models.DateField(),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='correction',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='line', to='homecare.correction'),
        ),
        migrations.AddConstraint(
            model_name='settlementline',
            constraint=models.UniqueConstraint(condition=models.Q(('correction__isnull', False)), fields=('correction',), name='homecare_one_settlement_line_per_correction'),
        ),
        migrations.RunPython(forwards, backwards),
    ]

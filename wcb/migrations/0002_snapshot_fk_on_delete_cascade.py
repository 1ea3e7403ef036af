"""Design §3.1: ``position_id UUID NOT NULL REFERENCES closed_positions(id) ON DELETE CASCADE``.

Django 5.2 emulates CASCADE in the ORM only; on PostgreSQL the foreign key itself is
recreated with ``ON DELETE CASCADE`` so a plain SQL ``DELETE FROM closed_positions``
(a DSR script, an operator) removes the snapshot too (revision §13.2).
"""

from django.db import migrations

TABLE = "closed_position_wcb_snapshots"


def _fk_names(schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return [name for name, info in constraints.items()
            if info.get("foreign_key") and info["foreign_key"][0] == "closed_positions" and info["columns"] == ["position_id"]]


def _recreate(schema_editor, on_delete: str):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _fk_names(schema_editor):
        schema_editor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT wcb_snapshot_position_fk FOREIGN KEY (position_id) "
        f"REFERENCES closed_positions (id) {on_delete} DEFERRABLE INITIALLY DEFERRED")


def forwards(apps, schema_editor):
    _recreate(schema_editor, "ON DELETE CASCADE")


def backwards(apps, schema_editor):
    _recreate(schema_editor, "")


class Migration(migrations.Migration):

    dependencies = [("wcb", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

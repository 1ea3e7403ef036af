# POSTGRES-ONLY: the trigger below exists only on PostgreSQL (SQLite keeps the API-level lock).
#
# A locked label (post_label_locked_at set) is read-only in the database: any UPDATE
# that changes a column other than user_id is rejected. user_id may change so an
# account merge can reattribute the row; DELETE stays possible for erasure.
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION journal_refuse_locked_label_update() RETURNS trigger AS $$
BEGIN
    IF (to_jsonb(NEW) - 'user_id') IS DISTINCT FROM (to_jsonb(OLD) - 'user_id') THEN
        RAISE EXCEPTION 'trade_sentiment_labels row % is locked and read-only', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trade_sentiment_labels_locked_read_only
    BEFORE UPDATE ON trade_sentiment_labels
    FOR EACH ROW WHEN (OLD.post_label_locked_at IS NOT NULL)
    EXECUTE FUNCTION journal_refuse_locked_label_update();
"""

DROP = """
DROP TRIGGER IF EXISTS trade_sentiment_labels_locked_read_only ON trade_sentiment_labels;
DROP FUNCTION IF EXISTS journal_refuse_locked_label_update();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("journal", "0002_seed_taxonomy_v1")]
    operations = [migrations.RunPython(forwards, backwards)]

# POSTGRES-ONLY: replaces the trigger of 0003 (SQLite keeps the API-level lock).
#
# A label is read-only in the database once it is locked, whether or not the lock worker has
# stored post_label_locked_at yet: the row is locked when that column is set OR when its trade
# closed 24 hours ago or earlier (CONTRACTS §3: "a label locks 24 h after its trade's closed_at").
# Still allowed: user_id (an account merge moves the row), the worker setting
# post_label_locked_at on a row whose window has ended, and DELETE (erasure).
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION journal_refuse_locked_label_update() RETURNS trigger AS $$
DECLARE
    trade_closed_at timestamptz;
BEGIN
    IF OLD.post_label_locked_at IS NOT NULL THEN
        IF (to_jsonb(NEW) - 'user_id') IS DISTINCT FROM (to_jsonb(OLD) - 'user_id') THEN
            RAISE EXCEPTION 'trade_sentiment_labels row % is locked and read-only', OLD.id
                USING ERRCODE = 'raise_exception';
        END IF;
        RETURN NEW;
    END IF;
    SELECT closed_at INTO trade_closed_at FROM paper_orders WHERE id = OLD.trade_id;
    IF trade_closed_at IS NOT NULL AND trade_closed_at + interval '24 hours' <= now() THEN
        IF (to_jsonb(NEW) - 'user_id' - 'post_label_locked_at')
                IS DISTINCT FROM (to_jsonb(OLD) - 'user_id' - 'post_label_locked_at') THEN
            RAISE EXCEPTION 'trade_sentiment_labels row % is locked and read-only', OLD.id
                USING ERRCODE = 'raise_exception';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

FORWARD = FUNCTION + """
DROP TRIGGER IF EXISTS trade_sentiment_labels_locked_read_only ON trade_sentiment_labels;
CREATE TRIGGER trade_sentiment_labels_locked_read_only
    BEFORE UPDATE ON trade_sentiment_labels
    FOR EACH ROW
    EXECUTE FUNCTION journal_refuse_locked_label_update();
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION journal_refuse_locked_label_update() RETURNS trigger AS $$
BEGIN
    IF (to_jsonb(NEW) - 'user_id') IS DISTINCT FROM (to_jsonb(OLD) - 'user_id') THEN
        RAISE EXCEPTION 'trade_sentiment_labels row % is locked and read-only', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS trade_sentiment_labels_locked_read_only ON trade_sentiment_labels;
CREATE TRIGGER trade_sentiment_labels_locked_read_only
    BEFORE UPDATE ON trade_sentiment_labels
    FOR EACH ROW WHEN (OLD.post_label_locked_at IS NOT NULL)
    EXECUTE FUNCTION journal_refuse_locked_label_update();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("journal", "0004_taxonomy_version_db_default")]
    operations = [migrations.RunPython(forwards, backwards)]

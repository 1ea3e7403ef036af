# POSTGRES-ONLY: replaces the function of 0005 (0006 left it as it was). A locked label's user_id may change only inside an
# account merge: raxx/merge.py sets the transaction-local raxx.account_merge = 'on' before moving rows.
# Anywhere else (a stray UPDATE, a bug, a hand-written SQL session) a locked row is read-only whole.
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION journal_refuse_locked_label_update() RETURNS trigger AS $$
DECLARE
    trade_closed_at timestamptz;
    free jsonb := CASE WHEN current_setting('raxx.account_merge', true) = 'on'
                       THEN '["user_id"]'::jsonb ELSE '[]'::jsonb END;
    refused boolean := false;
BEGIN
    IF OLD.post_label_locked_at IS NOT NULL THEN
        refused := (to_jsonb(NEW) - ARRAY(SELECT jsonb_array_elements_text(free)))
                   IS DISTINCT FROM (to_jsonb(OLD) - ARRAY(SELECT jsonb_array_elements_text(free)));
    ELSE
        SELECT closed_at INTO trade_closed_at FROM paper_orders WHERE id = OLD.trade_id;
        IF trade_closed_at IS NOT NULL AND trade_closed_at + interval '24 hours' <= now() THEN
            refused := (to_jsonb(NEW) - ARRAY(SELECT jsonb_array_elements_text(free)) - 'post_label_locked_at')
                       IS DISTINCT FROM
                       (to_jsonb(OLD) - ARRAY(SELECT jsonb_array_elements_text(free)) - 'post_label_locked_at');
        END IF;
    END IF;
    IF refused THEN
        RAISE EXCEPTION 'trade_sentiment_labels row % is locked and read-only', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        schema_editor.execute(import_module("journal.migrations.0005_lock_trigger_follows_the_window").FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("journal", "0006_paper_order_closed_position")]
    operations = [migrations.RunPython(forwards, backwards)]

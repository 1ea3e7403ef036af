from django.db import migrations

from flags.migration_helpers import create_flag_off

FLAG_NAME = "FLAG_WCB_ENABLED"


class Migration(migrations.Migration):
    dependencies = [("flags", "0001_sentiment_journal")]
    operations = [migrations.RunPython(*create_flag_off(FLAG_NAME))]

from django.db import migrations

from flags.migration_helpers import create_flag_off

FLAG_NAME = "FLAG_SENTIMENT_JOURNAL"


class Migration(migrations.Migration):
    dependencies = [("waffle", "0004_update_everyone_nullbooleanfield")]
    operations = [migrations.RunPython(*create_flag_off(FLAG_NAME))]

from django.db import migrations

from flags.migration_helpers import create_flag_off

FLAG_NAME = "FLAG_BETA_WALKTHROUGH_SELF_SELECT"


class Migration(migrations.Migration):
    dependencies = [("flags", "0002_wcb_enabled")]
    operations = [migrations.RunPython(*create_flag_off(FLAG_NAME))]

from django.db import migrations

from flags.migration_helpers import create_flag_off

FLAG_NAME = "FLAG_WALKTHROUGH_PERSONA_ROUTING"


class Migration(migrations.Migration):
    dependencies = [("flags", "0003_beta_walkthrough_self_select")]
    operations = [migrations.RunPython(*create_flag_off(FLAG_NAME))]

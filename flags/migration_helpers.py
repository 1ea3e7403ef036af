"""Shared body of the one-migration-per-flag data migrations."""


def create_flag_off(flag_name: str):
    def forwards(apps, schema_editor):
        Flag = apps.get_model("waffle", "Flag")
        Flag.objects.get_or_create(name=flag_name, defaults={"everyone": None, "note": "Created OFF by migration."})

    def backwards(apps, schema_editor):
        apps.get_model("waffle", "Flag").objects.filter(name=flag_name).delete()

    return forwards, backwards

from django.apps import AppConfig


class AccountsTestAppConfig(AppConfig):
    """Test-only tables shaped like the other apps' customer data (installed by settings_test).

    They let the accounts tests (and ``bench/bench_accounts.py``) prove the merge,
    export and erasure engine against every kind of rule: a foreign key, a plain
    UUID column with a cascade parent, a unique key per customer, a one-to-one
    setting, email-linked rows with cascade children, delete and keep rules.
    """

    name = "raxx.tests.accounts_testapp"
    label = "accounts_testapp"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    """Models, templates and commands of the operator console (app label ``console``)."""

    default = True
    name = "raxx.console"
    label = "console"
    verbose_name = "Operator console"


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the console's site as ``admin.site``."""

    default = False  # named explicitly in INSTALLED_APPS
    default_site = "raxx.console.site.ConsoleAdminSite"

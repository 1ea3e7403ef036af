"""The console's admin site: the operations dashboard is its index; models operators
never need are hidden from the index and the sidebar unless a superuser asks (``?all=1``)."""

from django.contrib.admin import AdminSite
from django.urls import path

# (app label, model name) kept registered (their URLs work) but off the index.
HIDDEN_MODELS = frozenset({
    ("waffle", "sample"), ("waffle", "switch"),
    ("django_celery_beat", "solarschedule"), ("django_celery_beat", "clockedschedule"),
})


def show_all(request) -> bool:
    return request.user.is_superuser and request.GET.get("all") == "1"


class ConsoleAdminSite(AdminSite):
    site_header = "Raxx operator console"
    site_title = "Raxx console"
    index_title = "Operations"
    index_template = "console/dashboard.html"
    # The dashboard is the way around; without the nav sidebar list columns fit 1400 px.
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if show_all(request):
            return apps
        for app in apps:
            app["models"] = [m for m in app["models"]
                             if (app["app_label"], m["object_name"].lower()) not in HIDDEN_MODELS]
        return [app for app in apps if app["models"]]

    def index(self, request, extra_context=None):
        from .dashboard import dashboard_context

        context = {**(extra_context or {}), **dashboard_context(request),
                   "show_all": show_all(request), "hidden_count": len(HIDDEN_MODELS)}
        return super().index(request, context)

    def get_urls(self):
        from .dashboard import kill_switch_view

        own = [path("console/kill-switch/<str:name>/",
                    self.admin_view(lambda request, name: kill_switch_view(self, request, name)),
                    name="console_kill_switch")]
        return own + super().get_urls()



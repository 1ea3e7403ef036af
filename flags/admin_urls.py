"""Admin pages of the flags app, mounted under /admin/ before admin.site.urls."""

from django.contrib import admin
from django.urls import path

from .admin_views import flag_registry_view

urlpatterns = [
    path("flags/registry/", admin.site.admin_view(flag_registry_view), name="flags_registry"),
]

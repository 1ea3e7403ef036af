"""Console ModelAdmins (autodiscovered): the audit log and the read-access log."""

from django.contrib import admin

from raxx.admin_base import ReadOnlyAdmin

from . import audit_admin  # noqa: F401  (registers AuditEventAdmin)
from .models import ReadAccess


@admin.register(ReadAccess)
class ReadAccessAdmin(ReadOnlyAdmin):
    """Who looked at what. Evidence: never edited, never deleted by hand."""

    list_display = ("created_at", "operator", "customer_id", "page", "path")
    list_filter = ("page",)
    search_fields = ("=customer__id", "operator")
    date_hierarchy = "created_at"

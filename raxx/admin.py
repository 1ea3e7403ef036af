from django.contrib import admin

from .models import AuditEvent, Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")
    list_filter = (("tombstoned_at", admin.EmptyFieldListFilter),)
    search_fields = ("=id", "email")
    readonly_fields = ("id", "created_at", "last_seen_at", "tombstoned_at")
    fields = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")

    def has_add_permission(self, request):
        return False  # customers come from Queue, on their first request

    def has_delete_permission(self, request, obj=None):
        return False  # erasure goes through the DSR flow, never a bare delete


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event_type", "customer_id", "actor")
    list_filter = ("event_type",)
    search_fields = ("=customer__id", "actor", "event_type")
    readonly_fields = ("created_at", "event_type", "customer", "actor", "data")
    list_select_related = ()
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

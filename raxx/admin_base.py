from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For evidence operators look at but never edit (audit events, snapshots, locked labels)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For evidence operators look at but never edit (audit events, snapshots, locked labels)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def cents_column(field: str, description: str):
    """A list column showing a money field rounded to cents (the detail page keeps every digit)."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        value = getattr(obj, field)
        return "—" if value is None else f"{value:,.2f}"

    column.__name__ = f"{field}_cents"
    return column


def quantity_column(field: str, description: str):
    @admin.display(description=description, ordering=field)
    def column(self, obj):
        value = getattr(obj, field)
        return "—" if value is None else format(value.normalize(), "f")

    column.__name__ = f"{field}_short"
    return column


def customer_column(field: str = "customer_id", description: str = "customer"):
    """The customer as a short id linking to the customer page (the full id is in the tooltip)."""
    from django.urls import reverse
    from django.utils.html import format_html

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        value = getattr(obj, field)
        if value is None:
            return "—"
        return format_html('<a href="{}" title="{}">{}…</a>', reverse("admin:raxx_customer_change", args=[value]),
                           value, str(value)[:8])

    column.__name__ = f"{field}_link"
    return column

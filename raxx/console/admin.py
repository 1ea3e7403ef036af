"""Operators (Django users) in the console: no password field, no set-password page.
Operators get in with a passkey from an enrollment link (``manage.py operator_invite`` or
the action below), never with a password (CONTRACTS §8). Also the audit log and the read-access log."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count

from raxx.admin_base import ReadOnlyAdmin

from . import audit_admin  # noqa: F401  (registers AuditEventAdmin)
from . import operators
from .models import ReadAccess

User = get_user_model()


class OperatorChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser",
                  "groups", "user_permissions")


admin.site.unregister(User)


@admin.register(User)
class OperatorAdmin(UserAdmin):
    form = OperatorChangeForm
    fieldsets = (
        (None, {"fields": ("username",)}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "email", "is_staff", "is_superuser", "is_active", "passkey_count", "last_login")
    actions = ["issue_enrollment_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(passkey_count=Count("passkeys"))

    @admin.display(description="passkeys", ordering="passkey_count")
    def passkey_count(self, obj) -> int:
        return obj.passkey_count

    def has_add_permission(self, request) -> bool:
        return False  # operators are invited (an enrollment link), never created with a password

    def get_urls(self):
        return [url for url in super().get_urls() if getattr(url, "name", None) != "auth_user_password_change"]

    @admin.action(description="Issue a 15-minute enrollment link (re-enables a disabled operator)",
                  permissions=["change"])
    def issue_enrollment_link(self, request, queryset):
        for user in queryset:
            invite = operators.operator_invite(username=user.get_username(),
                                               actor=operators.actor_for(request.user))
            messages.success(request, f"Enrollment link for {user.get_username()} (single use, 15 minutes, "
                                      f"shown once): {invite.url}")


@admin.register(ReadAccess)
class ReadAccessAdmin(ReadOnlyAdmin):
    """Who looked at what. Evidence: never edited, never deleted by hand."""

    list_display = ("created_at", "operator", "customer_id", "page", "path")
    list_filter = ("page",)
    search_fields = ("=customer__id", "operator")
    date_hierarchy = "created_at"

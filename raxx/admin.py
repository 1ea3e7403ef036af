from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from .console import customer_page
from .console.read_access import record_read
from .dsr import export_customer, export_json
from .console.merge_requests import open_request_view  # also registers MergeRequestAdmin
from .merge import AccountsRefused, merge_accounts, plan_merge
from .models import AuditEvent, Customer, TombstonedEmail


def _operator(request) -> str:
    return f"operator:{request.user.get_username()}"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customer support: the customer page (change view), open a merge request (both holders consent,
    then support executes it), DSR export and erase (raxx/console/customer_page.py)."""

    change_form_template = "admin/raxx/customer/change_form.html"
    actions = ("queue_dsr_erasure",)
    list_display = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")
    list_filter = (("tombstoned_at", admin.EmptyFieldListFilter),)
    search_fields = ("=id", "email")
    fields = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")
    readonly_fields = fields  # the email is Queue's: never editable here

    def has_add_permission(self, request):
        return False  # customers come from Queue, on their first request

    def has_delete_permission(self, request, obj=None):
        return False  # erasure goes through the DSR flow, never a bare delete

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/merge/", view(self.merge_view), name="raxx_customer_merge"),
            path("<uuid:object_id>/dsr-export/", view(self.dsr_export_view), name="raxx_customer_dsr_export"),
            path("<uuid:object_id>/dsr-erase/", view(self.dsr_erase_view), name="raxx_customer_dsr_erase"),
            *super().get_urls(),
        ]

    def _customer(self, request, object_id) -> Customer:
        if not self.has_change_permission(request):
            raise Http404
        return get_object_or_404(Customer, pk=object_id)

    def merge_view(self, request, object_id):
        """Open a merge request with this customer as the primary (CONTRACTS §9; raxx/console/merge_requests.py)."""
        return open_request_view(self, request, object_id)

    def dsr_export_view(self, request, object_id):
        customer = self._customer(request, object_id)
        record_read(request, [customer.pk], page="DSR export")
        document = export_customer(customer_id=customer.pk, actor=_operator(request))
        response = HttpResponse(export_json(document), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dsr-export-{customer.pk}.json"'
        return response

    @admin.action(description="Erase selected customers' data (DSR, queued)", permissions=["change"])
    def queue_dsr_erasure(self, request, queryset):
        return customer_page.queue_dsr_erasure(self, request, queryset)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The customer page (raxx/console/customer_page.py): read-only, with the DSR and merge actions."""
        return customer_page.customer_page_view(self, request, object_id, extra_context)

    def dsr_erase_view(self, request, object_id):
        return customer_page.dsr_erase_view(self, request, object_id)


@admin.register(TombstonedEmail)
class TombstonedEmailAdmin(admin.ModelAdmin):
    """Read-only: hashes of merged-away emails. Search by an exact email (hashed before the lookup)."""

    list_display = ("id", "reason", "created_at")
    readonly_fields = ("lookup_token", "email_hash", "reason", "created_at")
    search_fields = ("lookup_token",)
    search_help_text = "Exact email address (it is hashed, never stored or logged)."

    def get_search_results(self, request, queryset, search_term):
        from .tombstones import lookup_token

        if not search_term:
            return queryset, False
        return queryset.filter(lookup_token=lookup_token(search_term)), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

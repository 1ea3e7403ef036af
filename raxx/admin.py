from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .admin_base import ReadOnlyAdmin
from .dsr import export_customer, export_json
from .console.merge_requests import open_request_view  # also registers MergeRequestAdmin
from .models import AuditEvent, Customer, TombstonedEmail


def _operator(request) -> str:
    return f"operator:{request.user.get_username()}"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customer support: open a merge request (both holders consent, then support executes it),
    queue a DSR erasure (Celery, after commit), download a DSR export."""

    change_form_template = "admin/raxx/customer/change_form.html"
    actions = ("queue_dsr_erasure",)
    list_display = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")
    list_filter = (("tombstoned_at", admin.EmptyFieldListFilter),)
    search_fields = ("=id", "email")
    readonly_fields = ("id", "created_at", "last_seen_at", "tombstoned_at")
    fields = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")

    def has_add_permission(self, request):
        return False  # customers come from Queue, on their first request

    def has_delete_permission(self, request, obj=None):
        return False  # erasure goes through the DSR flow, never a bare delete

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/merge/", view(self.merge_view), name="raxx_customer_merge"),
            path("<uuid:object_id>/dsr-export/", view(self.dsr_export_view), name="raxx_customer_dsr_export"),
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
        document = export_customer(customer_id=customer.pk, actor=_operator(request))
        response = HttpResponse(export_json(document), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dsr-export-{customer.pk}.json"'
        return response

    @admin.action(description="Erase selected customers' data (DSR, queued)", permissions=["change"])
    def queue_dsr_erasure(self, request, queryset):
        from .tasks import dsr_erase_task

        customers = list(queryset.only("pk"))  # a merged-away account may still hold kept rows: allowed
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(request, "admin/raxx/customer/erase_confirm.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta, "customers": customers,
                "title": "Queue DSR erasure?",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME})
        actor = _operator(request)
        for customer in customers:
            transaction.on_commit(lambda cid=str(customer.pk): dsr_erase_task.delay(cid, actor))
        self.message_user(request, f"Queued DSR erasure for {len(customers)} customer(s).", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:raxx_customer_changelist"))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "customer_id", "actor")
    list_filter = ("event_type",)
    search_fields = ("=customer__id", "actor", "event_type")
    readonly_fields = ("created_at", "event_type", "customer", "actor", "data")
    list_select_related = ()
    date_hierarchy = "created_at"


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

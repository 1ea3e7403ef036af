"""Console pages of the account merge (CONTRACTS §9): open a request from the customer page,
follow it on its own page (both holders' consent, the dry run in plain words), execute it once
both consented; break-glass for superusers only, with a reason.

The customer page's ``admin:raxx_customer_merge`` URL calls :func:`open_request_view`.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from raxx.merge import AccountsRefused, MergePlan, TableStep, plan_merge
from raxx.merge_requests import cancel_merge_request, execute_merge_request, open_merge_request
from raxx.models import AuditEvent, Customer, MergeRequest


def _operator(request) -> str:
    return f"operator:{request.user.get_username()}"


# --- the dry run in words a support person follows --------------------------------------

def _noun(label: str, n: int) -> str:
    from django.apps import apps

    meta = apps.get_model(label)._meta
    name = str(meta.verbose_name if n == 1 else meta.verbose_name_plural)
    return name if name[:3].isupper() else name[:1].lower() + name[1:]


def _be(n: int, singular: str, plural: str) -> str:
    return singular if n == 1 else plural


def step_sentences(step: TableStep) -> list[str]:
    """``11 paper orders move``, ``1 WCB tier observation is deleted``, ... for one table of the plan."""
    label = ".".join(step.key.split(".")[:2])
    lines = []
    if step.moved:
        lines.append(f"{step.moved} {_noun(label, step.moved)} {_be(step.moved, 'moves', 'move')} to the primary")
    if step.collisions:
        key = ", ".join(step.unique_key) or "one per customer"
        lines.append(f"{step.collisions} {_noun(label, step.collisions)} {_be(step.collisions, 'is', 'are')} "
                     f"deleted: the primary already has one for the same {key}, and the primary's is kept")
    if step.deleted:
        lines.append(f"{step.deleted} {_noun(label, step.deleted)} {_be(step.deleted, 'is', 'are')} deleted")
    if step.kept:
        if step.on_merge == "keep":
            lines.append(f"{step.kept} {_noun(label, step.kept)} {_be(step.kept, 'stays', 'stay')} with the "
                         "closed secondary account")
        else:
            lines.append(f"{step.kept} {_noun(label, step.kept)} already {_be(step.kept, 'belongs', 'belong')} "
                         "to the primary (both accounts have the same email)")
    for owned, n in step.owned.items():
        lines.append(f"{n} {_noun(owned, n)} {_be(n, 'follows', 'follow')} along")
    return lines


def preview_sentences(plan: MergePlan) -> list[str]:
    lines = []
    for step in plan.steps:
        if step.key.startswith("raxx.MergeRequest."):
            continue  # the request itself, and older ones: evidence, not the holder's data
        lines.extend(step_sentences(step))
    return lines or ["The secondary account holds no data: only its account is closed."]


# --- opening a request from the customer page ----------------------------------------------

class OpenMergeRequestForm(forms.Form):
    secondary = forms.CharField(label="Secondary account (UUID or email)", max_length=254,
                                help_text="Merged into this customer and closed, once both holders consent.")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text="The support ticket and what the holders asked for. Both holders see it.")

    def clean_secondary(self):
        value = self.cleaned_data["secondary"].strip()
        try:
            return uuid.UUID(value)
        except ValueError:
            matches = list(Customer.objects.filter(email__iexact=value, tombstoned_at__isnull=True)[:2])
            if len(matches) != 1:
                raise forms.ValidationError("No single live account has this email; give its UUID.")
            return matches[0].pk


def can_open(request) -> bool:
    return request.user.has_perm("raxx.add_mergerequest")


def open_request_view(model_admin, request, object_id):
    """``admin:raxx_customer_merge``: open a merge request with this customer as the primary."""
    if not can_open(request):
        raise Http404
    primary = get_object_or_404(Customer, pk=object_id)
    form = OpenMergeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            merge_request = open_merge_request(primary_id=primary.pk, secondary_id=form.cleaned_data["secondary"],
                                               reason=form.cleaned_data["reason"], actor=_operator(request))
        except AccountsRefused as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(request, "Merge request opened. Both holders must now confirm it with a fresh "
                                              "passkey sign-in (within 7 days).", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:raxx_mergerequest_change", args=[merge_request.pk]))
    open_requests = MergeRequest.objects.filter(Q(primary=primary) | Q(secondary=primary),
                                                status__in=MergeRequest.OPEN)
    return TemplateResponse(request, "console/merge_request_open.html", {
        **model_admin.admin_site.each_context(request), "opts": Customer._meta, "primary": primary, "form": form,
        "open_requests": list(open_requests), "title": f"Open a merge request into {primary}"})


# --- the request page ------------------------------------------------------------------------

class NamingCustomerFilter(admin.SimpleListFilter):
    """``?customer=<uuid>``: the requests naming that customer on either side."""

    title = "customer"
    parameter_name = "customer"

    def _value(self):
        try:
            return uuid.UUID(str(self.value()))
        except (TypeError, ValueError):
            return None

    def lookups(self, request, model_admin):
        value = request.GET.get(self.parameter_name)
        return [(value, f"naming {value}")] if value else []

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        cid = self._value()
        if cid is None:
            return queryset.none()
        return queryset.filter(Q(primary_id=cid) | Q(secondary_id=cid))


class BreakGlassForm(forms.Form):
    reason = forms.CharField(label="Why consent is waived", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=2000, help_text="Recorded in the account_merged audit event.")


class MergeRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "primary_link", "secondary_link", "status_now", "consent_state", "created_at",
                    "expires_at")
    list_filter = (NamingCustomerFilter, "status")
    search_fields = ("=id", "=primary__id", "=secondary__id")
    list_select_related = ()
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False  # opened from the customer page ("Open a merge request")

    def has_delete_permission(self, request, obj=None):
        return False  # evidence; erasure deletes it with the customer

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/execute/", view(self.execute_view), name="raxx_mergerequest_execute"),
            path("<uuid:object_id>/cancel/", view(self.cancel_view), name="raxx_mergerequest_cancel"),
            path("<uuid:object_id>/break-glass/", view(self.break_glass_view), name="raxx_mergerequest_break_glass"),
            *super().get_urls(),
        ]

    @admin.display(description="primary (survives)")
    def primary_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:raxx_customer_change", args=[obj.primary_id]),
                           obj.primary_id)

    @admin.display(description="secondary (closed)")
    def secondary_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:raxx_customer_change", args=[obj.secondary_id]),
                           obj.secondary_id)

    @admin.display(description="status")
    def status_now(self, obj):
        return obj.effective_status

    @admin.display(description="consent")
    def consent_state(self, obj):
        if obj.consent:
            return obj.consent
        return f"primary {'yes' if obj.primary_confirmed_at else 'no'}, secondary " \
               f"{'yes' if obj.secondary_confirmed_at else 'no'}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise Http404
        return self._page(request, get_object_or_404(MergeRequest, pk=object_id))

    def _page(self, request, merge_request: MergeRequest, *, break_glass_form=None, error=None):
        status = merge_request.effective_status
        preview, refusal = [], error
        if status in MergeRequest.OPEN:
            try:
                preview = preview_sentences(plan_merge(primary_id=merge_request.primary_id,
                                                       secondary_id=merge_request.secondary_id))
            except AccountsRefused as exc:
                refusal = refusal or exc.message
        holders = [{"role": role, "customer_id": getattr(merge_request, f"{role}_id"),
                    "confirmed_at": merge_request.confirmed_at_of(role)} for role in ("primary", "secondary")]
        can_change = self.has_change_permission(request, merge_request)
        events = AuditEvent.objects.filter(data__request_id=str(merge_request.pk)).order_by("created_at", "id")
        return TemplateResponse(request, "console/merge_request.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": merge_request,
            "title": f"Merge request {merge_request.pk}", "status": status, "holders": holders,
            "preview": preview, "refusal": refusal, "events": list(events),
            "can_execute": can_change and status == MergeRequest.Status.CONFIRMED and merge_request.both_confirmed,
            "can_cancel": can_change and status in MergeRequest.OPEN,
            "can_break_glass": request.user.is_superuser and status in MergeRequest.OPEN,
            "break_glass_form": break_glass_form or BreakGlassForm()})

    def _post_only(self, request, object_id) -> MergeRequest:
        if not self.has_change_permission(request):
            raise Http404
        return get_object_or_404(MergeRequest, pk=object_id)

    def _back(self, merge_request):
        return HttpResponseRedirect(reverse("admin:raxx_mergerequest_change", args=[merge_request.pk]))

    def execute_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        merge_request = self._post_only(request, object_id)
        try:
            plan = execute_merge_request(request_id=merge_request.pk, actor=_operator(request))
        except AccountsRefused as exc:
            merge_request.refresh_from_db()
            return self._page(request, merge_request, error=exc.message)
        self.message_user(request, f"Accounts merged with both holders' consent: {plan.rows_moved} rows moved, "
                                   f"{plan.collisions} collisions resolved; the secondary is closed.",
                          messages.SUCCESS)
        return self._back(merge_request)

    def cancel_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        merge_request = self._post_only(request, object_id)
        try:
            cancel_merge_request(request_id=merge_request.pk, actor=_operator(request))
        except AccountsRefused as exc:
            return self._page(request, merge_request, error=exc.message)
        self.message_user(request, "Merge request cancelled.", messages.SUCCESS)
        return self._back(merge_request)

    def break_glass_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        merge_request = self._post_only(request, object_id)
        if not request.user.is_superuser:
            raise Http404
        form = BreakGlassForm(request.POST)
        if not form.is_valid():
            return self._page(request, merge_request, break_glass_form=form)
        try:
            plan = execute_merge_request(request_id=merge_request.pk, actor=_operator(request),
                                         without_consent_reason=form.cleaned_data["reason"])
        except AccountsRefused as exc:
            merge_request.refresh_from_db()
            return self._page(request, merge_request, break_glass_form=form, error=exc.message)
        self.message_user(request, f"Accounts merged WITHOUT the holders' consent (break-glass, audited): "
                                   f"{plan.rows_moved} rows moved.", messages.WARNING)
        return self._back(merge_request)


admin.site.register(MergeRequest, MergeRequestAdmin)

"""Operators' view of the walkthrough: tester progress, invites, the funnel.

The token hash is never shown or editable; an invite issued here shows the raw
token once, on the response page, and nowhere else.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from raxx.audit import acting_as
from raxx.console.read_access import RecordsReadAccess, customer_ids_by_email

from .models import WalkthroughPaperTrade, WalkthroughProgram, WalkthroughProgress, WalkthroughResponse
from .selectors import SCREENS, funnel
from .services import DEFAULT_PROGRAM, program_get_or_create, walkthrough_invite


class CompletedFilter(admin.SimpleListFilter):
    title = "completed"
    parameter_name = "completed"

    def lookups(self, request, model_admin):
        return [("yes", "Completed"), ("no", "Not completed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(completed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(completed_at__isnull=True)
        return queryset


class ScreenFilter(admin.SimpleListFilter):
    title = "furthest screen"
    parameter_name = "furthest"

    def lookups(self, request, model_admin):
        return [(str(n), f"Screen {n}" if n else "Not started") for n in (0, *SCREENS)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(screen_completed_max=int(value)) if value in {str(n) for n in (0, *SCREENS)} else queryset


class InviteForm(forms.Form):
    email = forms.EmailField()
    program = forms.CharField(max_length=100, initial=DEFAULT_PROGRAM)
    ends_on = forms.DateField(required=False, help_text="Only used when the program does not exist yet (YYYY-MM-DD).")


class PaperTradeInline(admin.StackedInline):
    model = WalkthroughPaperTrade
    extra = 0
    can_delete = False
    readonly_fields = ("strategy_type", "underlying", "legs_json", "short_put_strike", "long_put_strike",
                       "short_call_strike", "long_call_strike", "wing_width", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


class ResponseInline(admin.StackedInline):
    model = WalkthroughResponse
    extra = 0
    can_delete = False
    readonly_fields = ("answers", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WalkthroughProgress)
class WalkthroughProgressAdmin(RecordsReadAccess, admin.ModelAdmin):
    read_access_page = "walkthrough progress"

    def read_access_customers(self, objs) -> set:
        return customer_ids_by_email(obj.tester_email for obj in objs)

    list_display = ("tester_email", "program", "track_selected", "intent_bucket", "screen_completed_max",
                    "flag_cell", "completed_at", "updated_at")
    list_filter = ("track_selected", "intent_bucket", ScreenFilter, CompletedFilter, "program", "flag_cell")
    list_select_related = ("program",)
    search_fields = ("tester_email",)
    exclude = ("token_hash",)
    readonly_fields = ("tester_email", "program", "track_selected", "persona_answers", "intent_bucket",
                       "screen_completed_max", "scenario_answers", "flag_cell", "completed_at", "created_at",
                       "updated_at")
    inlines = (PaperTradeInline, ResponseInline)
    ordering = ("-updated_at",)
    change_list_template = "admin/walkthrough/progress_change_list.html"

    def has_add_permission(self, request):
        return False  # testers are created by an invite, which issues their token

    def get_urls(self):
        own = [
            path("invite/", self.admin_site.admin_view(self.invite_view), name="walkthrough_invite"),
            path("funnel/", self.admin_site.admin_view(self.funnel_view), name="walkthrough_funnel"),
        ]
        return own + super().get_urls()

    def invite_view(self, request):
        if not request.user.has_perm("walkthrough.add_walkthroughprogress"):
            raise PermissionDenied
        form = InviteForm(request.POST or None)
        issued = None
        if request.method == "POST" and form.is_valid():
            with acting_as(f"operator:{request.user.get_username()}"):
                program = program_get_or_create(name=form.cleaned_data["program"].strip(),
                                                ends_on=form.cleaned_data["ends_on"])
                issued = walkthrough_invite(email=form.cleaned_data["email"], program=program)
            messages.success(request, f"Invite issued for {issued.progress.tester_email}. "
                                      "Copy the token now: it is not stored and is shown only on this page.")
        context = {**self.admin_site.each_context(request), "title": "Issue a walkthrough invite", "form": form,
                   "issued": issued, "opts": self.model._meta}
        response = TemplateResponse(request, "admin/walkthrough/invite.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def funnel_view(self, request):
        program_id = request.GET.get("program")
        program_id = int(program_id) if program_id and program_id.isascii() and program_id.isdigit() \
            and len(program_id) < 12 else None
        data = funnel(program_id=program_id)
        testers = reverse("admin:walkthrough_walkthroughprogress_changelist")
        for groups in data.values():
            for group in groups:
                group["url"] = testers + "?" + _tester_filter(group, program_id)
                for screen in group["screens"]:
                    screen["url"] = f"{group['url']}&screen_completed_max__gte={screen['screen']}"
        context = {**self.admin_site.each_context(request), "title": "Walkthrough funnel", "funnel": data,
                   "programs": WalkthroughProgram.objects.order_by("-ends_on"), "program_id": program_id,
                   "screens": SCREENS, "opts": self.model._meta,
                   "changelist_url": reverse("admin:walkthrough_walkthroughprogress_changelist")}
        return TemplateResponse(request, "admin/walkthrough/funnel.html", context)


def _tester_filter(group: dict, program_id: int | None) -> str:
    """The tester list's query string for one funnel group (a bucket or flag cell, none as empty)."""
    if group["field"] == "intent_bucket" and group["key"] is None:
        query = {"intent_bucket__isnull": "True"}
    else:
        query = {f"{group['field']}__exact": group["key"] or ""}
    if program_id is not None:
        query["program__id__exact"] = str(program_id)
    return urlencode(query)


@admin.register(WalkthroughProgram)
class WalkthroughProgramAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_on", "ends_on", "tester_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_testers=Count("testers"))

    @admin.display(description="testers", ordering="_testers")
    def tester_count(self, obj):
        return obj._testers


@admin.register(WalkthroughPaperTrade)
class WalkthroughPaperTradeAdmin(RecordsReadAccess, admin.ModelAdmin):
    read_access_page = "walkthrough paper trades"

    def read_access_customers(self, objs) -> set:
        return customer_ids_by_email(obj.progress.tester_email for obj in objs)

    list_display = ("id", "progress", "strategy_type", "underlying", "wing_width", "created_at")
    list_filter = ("strategy_type", "underlying")
    list_select_related = ("progress", "progress__program")
    readonly_fields = [f.name for f in WalkthroughPaperTrade._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

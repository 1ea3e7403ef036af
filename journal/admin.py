"""Operator pages. Journal note text is never shown here, only whether a note exists.

Orders and labels are the customer's own assertions: operators read them and
cannot change them. Taxonomy versions can be added (that is how the label set evolves).
"""

import json
from datetime import UTC

from django import forms
from django.contrib import admin
from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Q
from django.utils.html import format_html

from raxx.admin_base import ReadOnlyAdmin, cents_column, customer_column, quantity_column
from raxx.console.read_access import RecordsReadAccess

from .models import POST_LABELS, PRE_LABELS, PaperOrder, SentimentTaxonomyVersion, TradeSentimentLabel


@admin.register(PaperOrder)
class PaperOrderAdmin(RecordsReadAccess, ReadOnlyAdmin):
    read_access_page = "paper orders"
    list_display = ("id", "customer_link", "symbol", "side", "quantity_short", "entry", "exit", "status",
                    "closed_at", "pnl")
    customer_link = customer_column()
    quantity_short = quantity_column("quantity", "quantity")
    entry = cents_column("entry_price", "entry")
    exit = cents_column("exit_price", "exit")
    pnl = cents_column("realized_pnl", "realized P&L")
    list_filter = ("status", "side", "strategy_type")
    search_fields = ("symbol", "customer__id")
    list_select_related = ("customer",)
    date_hierarchy = "opened_at"


class LockedFilter(admin.SimpleListFilter):
    title = "locked"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return (("yes", "Locked"), ("no", "Open for edits"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(post_label_locked_at__isnull=self.value() == "no")
        return queryset


class PostLabelSetFilter(admin.SimpleListFilter):
    title = "post label recorded"
    parameter_name = "post_label_set"

    def lookups(self, request, model_admin):
        return (("yes", "Recorded"), ("no", "Not recorded"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(post_label__isnull=self.value() == "no")
        return queryset


@admin.register(TradeSentimentLabel)
class TradeSentimentLabelAdmin(RecordsReadAccess, ReadOnlyAdmin):
    read_access_page = "sentiment labels"
    # journal_note is deliberately absent from every list below.
    fields = ("customer", "source_table", "trade", "pre_label", "pre_label_recorded_at", "post_label",
              "post_label_recorded_at", "lock_state", "note_present", "taxonomy_version", "created_at", "updated_at")
    readonly_fields = fields
    list_display = ("id", "customer_link", "trade", "pre_label", "post_label", "note_present", "locked",
                    "taxonomy_version", "created_at")
    customer_link = customer_column()
    list_filter = ("pre_label", "post_label", PostLabelSetFilter, LockedFilter, "taxonomy_version")
    list_select_related = ("customer", "trade", "taxonomy_version")
    search_fields = ("customer__id",)

    def changelist_view(self, request, extra_context=None):
        """Counts per label over the filtered rows, drawn as bars above the list (counts only, no content)."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["label_bars"] = [
                ("Pre-trade labels", _bars(changelist.queryset, "pre_label", PRE_LABELS)),
                ("Post-trade labels", _bars(changelist.queryset, "post_label", (*POST_LABELS, None))),
            ]
        return response

    def get_queryset(self, request):
        has_note = ExpressionWrapper(Q(journal_note__isnull=False) & ~Q(journal_note=""), output_field=BooleanField())
        return super().get_queryset(request).defer("journal_note").annotate(has_note=has_note)

    @admin.display(boolean=True, description="note present", ordering="has_note")
    def note_present(self, obj) -> bool:
        return bool(obj.has_note)

    @admin.display(description="lock", ordering="post_label_locked_at")
    def locked(self, obj) -> str:
        """The list's short form; the detail page says when (``lock_state``)."""
        return "locked" if obj.locked_at() else "open"

    @admin.display(description="lock", ordering="post_label_locked_at")
    def lock_state(self, obj) -> str:
        locked_at = obj.locked_at()  # stored by the worker, or the window's end before its next run (as the API)
        if locked_at:
            return format_html("🔒 Locked at {} (read-only)", locked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
        return "Open for edits"


def _bars(queryset, field: str, labels) -> list[dict]:
    counts = dict(queryset.order_by().values_list(field).annotate(n=Count("id")))
    top = max(counts.values(), default=0) or 1
    return [{"label": label or "(none recorded)", "count": counts.get(label, 0),
             "width": round(200 * counts.get(label, 0) / top)} for label in labels]


class TaxonomyVersionForm(forms.ModelForm):
    class Meta:
        model = SentimentTaxonomyVersion
        fields = ("version", "pre_labels", "post_labels", "description", "effective_from")

    def _labels(self, field: str, allowed: tuple[str, ...]) -> str:
        try:
            labels = json.loads(self.cleaned_data[field])
        except (TypeError, ValueError):
            raise forms.ValidationError("A JSON array of label strings, e.g. [\"Bullish\", \"Bearish\"].")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise forms.ValidationError("A non-empty JSON array of label strings.")
        if len(set(labels)) != len(labels):
            raise forms.ValidationError("Each label appears once.")
        unknown = [x for x in labels if x not in allowed]
        if unknown:
            raise forms.ValidationError(
                f"The database accepts only {', '.join(allowed)}; {', '.join(unknown)} needs a migration first.")
        return json.dumps(labels)

    def clean_pre_labels(self):
        return self._labels("pre_labels", PRE_LABELS)

    def clean_post_labels(self):
        return self._labels("post_labels", POST_LABELS)

    def clean_version(self):
        version = self.cleaned_data["version"]
        newest = SentimentTaxonomyVersion.objects.aggregate(m=Max("version"))["m"] or 0
        if version <= newest:
            raise forms.ValidationError(f"Versions only grow: the newest is {newest}.")
        return version


@admin.register(SentimentTaxonomyVersion)
class SentimentTaxonomyVersionAdmin(admin.ModelAdmin):
    """Versions are added, never edited: labels already recorded refer to them."""

    form = TaxonomyVersionForm
    list_display = ("version", "pre_labels", "post_labels", "effective_from", "description")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

"""Audit events that read: what changed in one line, filters an operator needs, a diff on the detail page.

``summarize(event)`` and ``changes(event)`` know the shapes written by
``flags.signals`` (flag old → new), ``wcb.services`` (setting old → new),
``raxx.merge`` (primary ← secondary, rows moved) and ``raxx.dsr``; any other
event falls back to its data as ``key: value`` rows, never a raw JSON blob.
"""

import json
import uuid
from typing import NamedTuple

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from raxx.admin_base import ReadOnlyAdmin
from raxx.models import AuditEvent

MAX_SUMMARY = 140


def _short(value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


class Change(NamedTuple):
    what: str
    old: object
    new: object
    is_diff: bool  # False: a plain fact of the event (no old value)


def _fact(what: str, value) -> Change:
    return Change(what, None, value, False)


def _dict_diff(old: dict | None, new: dict | None) -> list[Change]:
    old, new = old or {}, new or {}
    return [Change(key, old.get(key), new.get(key), True)
            for key in sorted({*old, *new}) if old.get(key) != new.get(key)]


def _merge_changes(data: dict) -> list[Change]:
    rows = [_fact("primary (survives)", data.get("primary_id")),
            _fact("secondary (merged away)", data.get("secondary_id")),
            _fact("rows moved", data.get("rows_moved")),
            _fact("collisions dropped", data.get("collisions_dropped"))]
    rows += [_fact(key, data[key]) for key in ("consent", "reason", "request_id") if key in data]
    for table, counts in sorted((data.get("tables") or {}).items()):
        counts = {k: v for k, v in counts.items() if v} if isinstance(counts, dict) else counts
        if counts:
            rows.append(_fact(table, counts))
    return rows


def _plain_changes(data: dict) -> list[Change]:
    rows = []
    for key, value in sorted(data.items()):
        if isinstance(value, dict) and value and all(not isinstance(v, dict | list) for v in value.values()):
            rows.extend(_fact(f"{key}.{k}", v) for k, v in sorted(value.items()) if v not in (0, None))
        else:
            rows.append(_fact(key, value))
    return rows


def changes(event: AuditEvent) -> list[Change]:
    """What this event changed (old → new), or the facts it records."""
    data = event.data or {}
    if event.event_type == "flag_changed" and "targets" in data:
        return [_fact(f"{data['targets']} {data.get('action')}", data.get("ids"))]
    if "old" in data or "new" in data:
        old, new = data.get("old"), data.get("new")
        if isinstance(old, dict) or isinstance(new, dict):
            return _dict_diff(old if isinstance(old, dict) else None, new if isinstance(new, dict) else None)
        return [Change("value", old, new, True)]
    if "old_value" in data or "new_value" in data:
        return [Change(data.get("setting", "tracking_horizon"), data.get("old_value"), data.get("new_value"), True)]
    if event.event_type == "account_merged":
        return _merge_changes(data)
    return _plain_changes(data)


def _line(change: Change) -> str:
    if change.is_diff:
        return f"{change.what} {_short(change.old)} → {_short(change.new)}"
    return f"{change.what}: {_short(change.new)}"


def summarize(event: AuditEvent) -> str:
    """One line: what changed (``FLAG_X: everyone None → True``; ``secondary merged into primary: 12 rows``)."""
    data = event.data or {}
    kind = event.event_type
    if kind == "flag_changed" and "targets" not in data and data.get("new") is None:
        text = f"{data.get('flag')}: deleted"
    elif kind == "flag_changed" and "targets" not in data and data.get("old") is None:
        text = f"{data.get('flag')}: created"
    elif kind == "flag_changed":
        text = f"{data.get('flag')}: " + "; ".join(_line(c) for c in changes(event))
    elif kind == "account_merged":
        text = (f"{str(data.get('secondary_id', '?'))[:8]}… merged into {str(data.get('primary_id', '?'))[:8]}…: "
                f"{data.get('rows_moved', 0)} rows moved, {data.get('collisions_dropped', 0)} collisions dropped")
        if data.get("consent"):
            text += f" (consent: {data['consent']})"
    elif kind == "dsr_erased":
        text = f"{data.get('rows_deleted', 0)} rows deleted in {len(data.get('tables') or {})} tables"
    elif kind == "dsr_exported":
        text = f"{data.get('rows', 0)} rows exported"
    else:
        text = "; ".join(_line(c) for c in changes(event))
    return text if len(text) <= MAX_SUMMARY else text[:MAX_SUMMARY - 1] + "…"


class InputFilter(admin.SimpleListFilter):
    """A free-text filter (customer id, actor) in the sidebar."""

    template = "console/input_filter.html"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else [("", "")]  # always shown, so the box renders

    def has_output(self):
        return True

    def choices(self, changelist):
        query = {k: v for k, v in changelist.get_filters_params().items() if k != self.parameter_name}
        yield {"parameter_name": self.parameter_name, "value": self.value() or "",
               "hidden": [(k, v) for k, v in query.items() for v in (v if isinstance(v, list) else [v])]}


class CustomerFilter(InputFilter):
    title = "customer (UUID)"
    parameter_name = "customer"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        try:
            return queryset.filter(customer_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


class ActorFilter(InputFilter):
    title = "actor (contains)"
    parameter_name = "actor"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(actor__icontains=value[:200]) if value else queryset


class EventTypeFilter(admin.SimpleListFilter):
    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        types = AuditEvent.objects.order_by("event_type").values_list("event_type", flat=True).distinct()
        return [(t, t) for t in types]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "what_changed", "customer_link", "actor")
    list_filter = (EventTypeFilter, CustomerFilter, ActorFilter)
    search_fields = ("=customer__id", "actor", "event_type")
    fields = ("created_at", "event_type", "customer", "actor", "diff")
    readonly_fields = fields
    date_hierarchy = "created_at"
    change_list_template = "console/auditevent_change_list.html"

    @admin.display(description="what changed")
    def what_changed(self, obj) -> str:
        return summarize(obj)

    @admin.display(description="customer", ordering="customer_id")
    def customer_link(self, obj):
        if obj.customer_id is None:
            return "—"
        return format_html('<a href="?customer={}" title="{}">{}…</a>', obj.customer_id, obj.customer_id,
                           str(obj.customer_id)[:8])

    @admin.display(description="changes")
    def diff(self, obj):
        rows = changes(obj)
        if not rows:
            return "No data recorded."
        body = format_html_join("", '<tr><th scope="row">{}</th><td class="old">{}</td><td class="new">{}</td></tr>',
                                ((c.what, _short(c.old) if c.is_diff else "", _short(c.new)) for c in rows))
        return format_html('<table class="audit-diff"><thead><tr><th>field</th><th>old</th><th>new</th></tr></thead>'
                           "<tbody>{}</tbody></table>", body)

"""WCB in the admin: snapshots are evidence (read-only), the ledger shows the jobs' health."""

from collections import defaultdict
from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from raxx.admin_base import ReadOnlyAdmin, cents_column, customer_column, quantity_column
from raxx.console.read_access import RecordsReadAccess

from . import jobs, market_data
from .models import HORIZON_EOD, ClosedPosition, WcbJobBatch, WcbJobRun, WcbSetting, WcbSnapshot, WcbTierObservation
from .selectors import trajectory_payload


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def sparkline(points: list, width: int = 600, height: int = 170, actual=None) -> str:
    """An inline SVG of the trajectory: the would-have P&L over sessions, its axis values
    (high, low, the first and last session), the zero line labelled, and the actual
    P&L of the close drawn as a level to compare against. Built from dates and numbers only."""
    if not points:
        return "<em>No trajectory: no session of the window has market data.</em>"
    values = [Decimal(str(v)) for _, v in points]
    levels = [*values, Decimal(0)] + ([Decimal(str(actual))] if actual is not None else [])
    low, high = min(levels), max(levels)
    span = (high - low) or Decimal(1)
    left, right, top, bottom = 78, 118, 10, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(values) - 1, 1)

    def y(v: Decimal) -> float:
        return round(top + float((high - v) / span) * plot_h, 1)

    coords = [(round(left + i * step, 1), y(v)) for i, v in enumerate(values)]
    line = " ".join(f"{x},{yy}" for x, yy in coords)
    dots = "".join(f'<circle cx="{x}" cy="{yy}" r="2.5"><title>{d}: {_money(v)}</title></circle>'
                   for (x, yy), (d, v) in zip(coords, points))
    color = "#1a7f37" if values[-1] >= 0 else "#cf222e"
    label = 'font-size="11" fill="#57606a"'
    axis = (f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#d0d7de"/>'
            f'<text x="{left - 6}" y="{y(high) + 4}" text-anchor="end" {label}>{_money(high)}</text>'
            f'<text x="{left - 6}" y="{y(low) + 4}" text-anchor="end" {label}>{_money(low)}</text>'
            f'<text x="{left}" y="{height - 6}" {label}>{points[0][0]}</text>'
            f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end" {label}>{points[-1][0]}</text>')
    zero_y = y(Decimal(0))
    zero_label_y = zero_y + 4
    if actual is not None and abs(y(Decimal(str(actual))) - zero_y) < 12:  # keep the two labels apart
        zero_label_y = zero_y + (16 if y(Decimal(str(actual))) <= zero_y else -8)
    zero = (f'<line x1="{left}" x2="{left + plot_w}" y1="{zero_y}" y2="{zero_y}" stroke="#8c959f" '
            f'stroke-dasharray="4 3"/><text x="{left + plot_w + 4}" y="{zero_label_y}" {label}>0 (break-even)</text>')
    level = ""
    if actual is not None:
        a = Decimal(str(actual))
        level = (f'<line x1="{left}" x2="{left + plot_w}" y1="{y(a)}" y2="{y(a)}" stroke="#0969da" stroke-width="1.5" '
                 f'stroke-dasharray="8 3"/><text x="{left + plot_w + 4}" y="{y(a) + 4}" font-size="11" '
                 f'fill="#0969da">actual {_money(a)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="P&amp;L trajectory" style="background:#f6f8fa;border-radius:4px">'
            f'{axis}{zero}{level}'
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{line}"/>'
            f'<g fill="{color}">{dots}</g></svg>'
            f'<div style="font-size:11px;color:#57606a">Would-have P&amp;L per session, {points[0][0]} → {points[-1][0]} · '
            f'first {_money(values[0])} · last {_money(values[-1])} · {len(points)} session(s)'
            f'{" · dashed blue: the actual P&amp;L at close" if actual is not None else ""}</div>')


@admin.register(WcbSnapshot)
class WcbSnapshotAdmin(RecordsReadAccess, ReadOnlyAdmin):
    read_access_page = "WCB snapshots"
    read_access_field = "user_id"
    list_display = ("symbol", "tracking_horizon", "horizon_reached", "close_timestamp_utc",
                    "actual", "would_have", "delta", "customer_link", "position_link")
    actual = cents_column("actual_pnl", "actual P&L")
    would_have = cents_column("would_have_pnl", "would-have P&L")
    delta = cents_column("delta_pnl", "delta")
    customer_link = customer_column("user_id")
    list_filter = ("tracking_horizon", "horizon_reached", "data_source", "asset_type", "spinoff_detected", "symbol")
    search_fields = ("symbol", "=user_id", "=position__id")
    list_select_related = ("position",)
    date_hierarchy = "close_timestamp_utc"
    actions = ["recompute_now"]
    readonly_fields = ("trajectory_chart",)
    fieldsets = (
        ("Trajectory", {"fields": ("trajectory_chart",)}),
        ("Close", {"fields": ("position", "user_id", "symbol", "asset_type", "tracking_horizon",
                              "close_timestamp_utc", "close_price", "cost_basis", "position_size_signed",
                              "close_commission", "multiplier", "actual_pnl")}),
        ("Horizon (written by the jobs)", {"fields": (
            "horizon_reached", "horizon_timestamp_utc", "horizon_price", "would_have_pnl", "delta_pnl",
            "dividends_in_window", "split_ratio_applied", "spinoff_detected", "data_source", "last_computed_at",
            "created_at", "updated_at")}),
    )

    @admin.display(description="position")
    def position_link(self, obj):
        url = reverse("admin:wcb_closedposition_change", args=[obj.position_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.position_id)[:8])

    @admin.display(description="P&L trajectory")
    def trajectory_chart(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        try:
            payload = trajectory_payload(obj, obj.tracking_horizon, timezone.now())
        except market_data.MarketDataUnavailable:
            return "Market data was unavailable just now; no trajectory drawn."
        except ValueError as exc:  # a row the calendar cannot place
            return f"No trajectory: {exc}"
        return mark_safe(sparkline(payload["trajectory"], actual=obj.actual_pnl))  # built from dates and numbers only

    @admin.action(description="Recompute selected now (pending rows only; finalized rows never change)")
    def recompute_now(self, request, queryset):
        by_job = defaultdict(list)
        finalized = 0
        for pk, horizon, reached in queryset.values_list("pk", "tracking_horizon", "horizon_reached"):
            if reached:
                finalized += 1
            else:
                by_job["eod" if horizon == HORIZON_EOD else "eom"].append(pk)
        totals = [0, 0, 0]
        for job, ids in by_job.items():
            summary = jobs.run_manual(job, trigger="admin", snapshot_ids=ids)
            totals = [totals[0] + summary.finalized, totals[1] + summary.pending, totals[2] + summary.failed]
        self.message_user(request, (
            f"Recomputed: finalized={totals[0]} pending={totals[1]} failed={totals[2]}; "
            f"{finalized} already-finalized row(s) left unchanged."), messages.SUCCESS)


@admin.register(ClosedPosition)
class ClosedPositionAdmin(RecordsReadAccess, ReadOnlyAdmin):
    read_access_page = "closed positions"
    list_display = ("symbol", "asset_type", "quantity_short", "close", "closed_at", "customer_link", "snapshot_link")
    quantity_short = quantity_column("quantity", "quantity")
    close = cents_column("close_price", "close price")
    customer_link = customer_column()
    list_filter = ("asset_type",)
    search_fields = ("symbol", "=customer__id", "customer__email")
    list_select_related = ("wcb_snapshot",)
    date_hierarchy = "closed_at"

    @admin.display(description="WCB snapshot")
    def snapshot_link(self, obj):
        snap = getattr(obj, "wcb_snapshot", None)
        if snap is None:
            return "—"
        url = reverse("admin:wcb_wcbsnapshot_change", args=[snap.pk])
        return format_html('<a href="{}">{}</a>', url, "final" if snap.horizon_reached else "pending")


class WcbJobBatchInline(admin.TabularInline):
    """The run's fan-out: which worker did which batch, how many deliveries it took."""

    model = WcbJobBatch
    fields = ("index", "status", "finalized", "pending", "failed", "failed_symbols", "attempts", "worker",
              "started_at", "finished_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WcbJobRun)
class WcbJobRunAdmin(ReadOnlyAdmin):
    inlines = [WcbJobBatchInline]
    list_display = ("job", "session", "trigger", "status", "finalized", "pending", "failed", "symbols", "batches",
                    "started_at", "duration")
    list_filter = ("job", "status", "trigger")
    date_hierarchy = "started_at"

    @admin.display(description="duration")
    def duration(self, obj):
        if not obj.finished_at:
            return "—"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    def changelist_view(self, request, extra_context=None):
        last = {row["job"]: row for row in WcbJobRun.objects.filter(status=WcbJobRun.Status.SUCCEEDED)
                .values("job").annotate(session=Max("session"), at=Max("finished_at"))}
        summary = [{"job": job, "session": last.get(job, {}).get("session"), "at": last.get(job, {}).get("at")}
                   for job in sorted(jobs.JOBS)]
        return super().changelist_view(request, {**(extra_context or {}), "wcb_last_success": summary})


@admin.register(WcbSetting)
class WcbSettingAdmin(RecordsReadAccess, ReadOnlyAdmin):
    read_access_page = "WCB settings"
    list_display = ("customer_link", "tracking_horizon", "updated_at")
    customer_link = customer_column()
    list_filter = ("tracking_horizon",)
    search_fields = ("=customer__id", "customer__email")


@admin.register(WcbTierObservation)
class WcbTierObservationAdmin(RecordsReadAccess, ReadOnlyAdmin):
    read_access_page = "WCB tier observations"
    list_display = ("customer_link", "last_paid_seen_at", "free_since")
    customer_link = customer_column()
    search_fields = ("=customer__id", "customer__email")

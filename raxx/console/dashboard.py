"""The operations dashboard (the console's index page) and the kill-switch flow.

Everything an operator checks first, each block one or two queries: flags with
their live state (kill switches one click away, with a confirmation step),
scheduled jobs with a stale badge, pending WCB rows by horizon, the
walkthrough funnel, health of database, cache and broker, the latest audit
events. A kill switch writes its ``flag_changed`` audit event through
``flags.signals`` like every other flag change (the actor is the operator).
"""

from django.contrib import messages
from django.db.models import Count, Min
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from waffle.models import Flag

from flags.admin_views import registry_rows
from flags.registry import FLAGS, Kind
from raxx import health, jobs
from raxx.models import AuditEvent
from walkthrough.selectors import SCREENS, funnel_totals
from wcb.models import WcbSnapshot

from .audit_admin import summarize

LATEST_AUDIT = 20
FUNNEL_WIDTH, FUNNEL_BAR_H, FUNNEL_LABEL_W = 560, 22, 96


def flag_rows() -> list[dict]:
    rows = registry_rows()
    for row in rows:
        spec = row["spec"]
        row["kill_switch"] = spec.kind == Kind.KILL_SWITCH
        row["can_kill"] = row["kill_switch"] and row["state"] in ("on", "partial")
        row["kill_url"] = reverse("admin:console_kill_switch", args=[spec.name]) if row["can_kill"] else None
    return rows


def wcb_pending() -> list[dict]:
    rows = (WcbSnapshot.objects.filter(horizon_reached=False).values("tracking_horizon")
            .annotate(n=Count("id"), oldest=Min("close_timestamp_utc")).order_by("tracking_horizon"))
    labels = dict(WcbSnapshot._meta.get_field("tracking_horizon").choices)
    changelist = reverse("admin:wcb_wcbsnapshot_changelist")
    return [{"horizon": labels.get(r["tracking_horizon"], r["tracking_horizon"]), "n": r["n"], "oldest": r["oldest"],
             "url": f"{changelist}?horizon_reached__exact=0&tracking_horizon__exact={r['tracking_horizon']}"}
            for r in rows]


def funnel_chart(totals: dict) -> dict:
    """Bars for "invited" and each screen, as numbers an SVG template draws (no JS, no CDN)."""
    invited = totals["invited"] or 0
    bars = [("Invited", invited)] + [(f"Screen {n}", totals[f"s{n}"] or 0) for n in SCREENS]
    span = FUNNEL_WIDTH - FUNNEL_LABEL_W - 90
    out = []
    for i, (label, count) in enumerate(bars):
        width = round(span * count / invited) if invited else 0
        out.append({"label": label, "count": count, "pct": round(100 * count / invited) if invited else 0,
                    "y": i * (FUNNEL_BAR_H + 6), "width": max(width, 1 if count else 0),
                    "text_x": FUNNEL_LABEL_W + max(width, 0) + 6})
    return {"bars": out, "width": FUNNEL_WIDTH, "height": len(bars) * (FUNNEL_BAR_H + 6),
            "label_w": FUNNEL_LABEL_W, "bar_h": FUNNEL_BAR_H, "text_y": FUNNEL_BAR_H - 6,
            "invited": invited, "completed": totals["completed"] or 0}


def latest_audit() -> list[dict]:
    events = AuditEvent.objects.order_by("-created_at", "-id")[:LATEST_AUDIT]
    return [{"event": e, "summary": summarize(e),
             "url": reverse("admin:raxx_auditevent_change", args=[e.pk])} for e in events]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def dashboard_context(request) -> dict:
    now = timezone.now()
    return {
        "now": now,
        "flag_rows": flag_rows(),
        "jobs": jobs.job_health(now=now),
        "wcb_pending": wcb_pending(),
        "funnel": funnel_chart(funnel_totals()),
        "health": [("Database", health.database_ok()), ("Cache", health.cache_ok()), ("Broker", health.broker_ok())],
        "audit": latest_audit(),
        "links": {
            "flags": reverse("flags_registry"),
            "jobs": _url("admin:django_celery_beat_periodictask_changelist"),
            "job_runs": _url("admin:wcb_wcbjobrun_changelist"),
            "funnel": _url("admin:walkthrough_funnel"),
            "testers": _url("admin:walkthrough_walkthroughprogress_changelist"),
            "audit": reverse("admin:raxx_auditevent_changelist"),
        },
    }


def kill_switch_view(site, request, name: str):
    """GET: the confirmation step. POST: the flag goes OFF for everyone (audited by flags.signals)."""
    spec = FLAGS.get(name)
    if spec is None or spec.kind != Kind.KILL_SWITCH or not request.user.has_perm("waffle.change_flag"):
        raise Http404
    flag = get_object_or_404(Flag, name=name)
    if request.method == "POST":
        if flag.everyone is not False:
            flag.everyone = False
            flag.save()  # flags.signals writes flag_changed with the operator as actor
        messages.success(request, f"{name} is OFF for everyone. The change is in the audit log.")
        return HttpResponseRedirect(reverse("admin:index"))
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    state = next(row for row in registry_rows() if row["spec"].name == name)
    context = {**site.each_context(request), "title": f"Turn {name} off?", "spec": spec, "row": state,
               "flag_url": reverse("admin:waffle_flag_change", args=[flag.pk])}
    return TemplateResponse(request, "console/kill_switch_confirm.html", context)

"""The customer page: customer support's one stop (the change view of ``CustomerAdmin``).

Identity is read-only (the email is Queue's: never editable here). Counts link
to the customer's rows in each feature's list; labels show counts only, never
note text; the audit trail is a timeline; the latest read-access events say
who looked. The page itself records a read-access event.

Actions: DSR export (download), DSR erase (type the id to confirm; runs in the
request, so it works with the broker down, and reports per-table counts), open
a merge request. The list action "Erase selected customers' data (DSR, queued)"
queues one task per customer, or, when the broker cannot be reached, says so
on its confirmation page and erases in the request instead of failing.

The page costs a fixed number of queries whatever the customer holds.
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from journal.models import POST_LABELS, PRE_LABELS, PaperOrder, TradeSentimentLabel
from journal.selectors import label_matrix
from raxx import health
from raxx.dsr import erase_customer, erasure_preview
from raxx.merge import AccountsRefused
from raxx.models import AuditEvent, Customer
from walkthrough.models import WalkthroughProgress
from wcb.models import ClosedPosition, WcbSnapshot

from .audit_admin import summarize
from .read_access import latest_reads, operator_name, record_read

logger = logging.getLogger(__name__)

TIMELINE = 50
READS = 20
POSITIONS = 10
PAGE = "customer page"


def _url(name: str, *args, query: str = "") -> str | None:
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return None


def cents(value) -> str:
    return "—" if value is None else f"{value:,.2f}"


def tier_last_seen(customer: Customer) -> str:
    observation = getattr(customer, "wcb_tier_observation", None)
    if observation is None:
        return "Not seen on a tier-gated route yet (tiers live in the token; WCB records what it saw)."
    if observation.free_since:
        paid = f", last paid {observation.last_paid_seen_at:%Y-%m-%d %H:%M} UTC" if observation.last_paid_seen_at else ""
        return f"free since {observation.free_since:%Y-%m-%d %H:%M} UTC{paid}"
    return f"paid (pro or pro_plus), last seen {observation.last_paid_seen_at:%Y-%m-%d %H:%M} UTC"


def _orders(customer: Customer) -> dict:
    stats = PaperOrder.objects.filter(customer=customer).aggregate(
        total=Count("id"), open=Count("id", filter=Q(status="open")), closed=Count("id", filter=Q(status="closed")),
        pnl=Sum("realized_pnl"))
    return {**stats, "pnl": cents(stats["pnl"]),
            "url": _url("admin:journal_paperorder_changelist", query=f"?customer={customer.pk}")}


def _labels(customer: Customer) -> dict:
    rows = TradeSentimentLabel.objects.filter(customer=customer)
    stats = rows.aggregate(total=Count("id"), post=Count("id", filter=Q(post_label__isnull=False)),
                           locked=Count("id", filter=Q(post_label_locked_at__isnull=False)),
                           with_note=Count("id", filter=Q(journal_note__isnull=False) & ~Q(journal_note="")))
    return {**stats, "heatmap": label_heatmap(label_matrix(customer=customer)),
            "url": _url("admin:journal_tradesentimentlabel_changelist", query=f"?customer={customer.pk}")}


def label_heatmap(matrix: list[dict]) -> dict | None:
    """The pre × post matrix as heat-map cells (counts only: no P&L, no note text), shaded by count."""
    if not matrix:
        return None
    counts = {(row["pre_label"], row["post_label"]): row["n"] for row in matrix}
    pres = [*PRE_LABELS, *sorted({pre for pre, _ in counts} - set(PRE_LABELS))]
    posts = [*POST_LABELS, *sorted({post for _, post in counts if post} - set(POST_LABELS)), None]
    top = max(counts.values())
    cell_w, cell_h, left, head = 58, 24, 104, 86
    cells = [{"x": left + j * cell_w, "y": head + i * cell_h, "n": counts.get((pre, post), 0),
              "opacity": round(0.12 + 0.88 * counts[(pre, post)] / top, 2) if (pre, post) in counts else 0,
              "title": f"{pre} → {post or 'no post-trade label'}: {counts.get((pre, post), 0)} trades"}
             for i, pre in enumerate(pres) for j, post in enumerate(posts)]
    return {"cells": cells, "width": left + len(posts) * cell_w + 70, "height": head + len(pres) * cell_h,
            "cell_w": cell_w - 2, "cell_h": cell_h - 2,
            "rows": [{"label": pre, "y": head + i * cell_h + cell_h / 2 + 4} for i, pre in enumerate(pres)],
            "text_x": cell_w // 2 - 1, "text_y": cell_h // 2 + 4, "label_x": left - 8,
            "columns": [{"label": post or "none yet", "x": left + j * cell_w + cell_w / 2, "y": head - 6}
                        for j, post in enumerate(posts)]}


def _positions(customer: Customer) -> dict:
    latest = list(ClosedPosition.objects.filter(customer=customer).select_related("wcb_snapshot")
                  .order_by("-closed_at")[:POSITIONS])
    snapshots = WcbSnapshot.objects.filter(user_id=customer.pk).aggregate(
        total=Count("id"), final=Count("id", filter=Q(horizon_reached=True)),
        pending=Count("id", filter=Q(horizon_reached=False)))
    total = ClosedPosition.objects.filter(customer=customer).count()
    rows = []
    for position in latest:
        snapshot = getattr(position, "wcb_snapshot", None)
        rows.append({"position": position, "close_price": cents(position.close_price),
                     "url": _url("admin:wcb_closedposition_change", position.pk),
                     "snapshot": snapshot,
                     "snapshot_url": _url("admin:wcb_wcbsnapshot_change", snapshot.pk) if snapshot else None,
                     "actual": cents(snapshot.actual_pnl) if snapshot else "—",
                     "would_have": cents(snapshot.would_have_pnl) if snapshot else "—"})
    return {"total": total, "rows": rows, "snapshots": snapshots,
            "url": _url("admin:wcb_closedposition_changelist", query=f"?customer={customer.pk}"),
            "snapshots_url": _url("admin:wcb_wcbsnapshot_changelist", query=f"?user_id={customer.pk}")}


def _walkthrough(customer: Customer) -> list[dict]:
    if not customer.email:
        return []
    rows = WalkthroughProgress.objects.filter(tester_email__iexact=customer.email).select_related("program")
    return [{"row": row, "url": _url("admin:walkthrough_walkthroughprogress_change", row.pk)}
            for row in rows.order_by("-updated_at")]


def _timeline(customer: Customer) -> list[dict]:
    events = AuditEvent.objects.filter(customer=customer).order_by("-created_at", "-id")[:TIMELINE]
    out, day = [], None
    for event in events:
        this_day = event.created_at.date()
        out.append({"event": event, "summary": summarize(event), "new_day": this_day != day,
                    "url": _url("admin:raxx_auditevent_change", event.pk)})
        day = this_day
    return out


def is_erased(customer: Customer) -> bool:
    return AuditEvent.objects.filter(customer=customer, event_type="dsr_erased").exists()


def customer_page_context(customer: Customer) -> dict:
    erased = is_erased(customer)
    merge_requests = _url("admin:raxx_mergerequest_changelist", query=f"?customer={customer.pk}")
    return {
        "customer": customer,
        "erased": erased,
        "tier": tier_last_seen(customer),
        "horizon": getattr(getattr(customer, "wcb_setting", None), "tracking_horizon", None),
        "orders": _orders(customer),
        "labels": _labels(customer),
        "positions": _positions(customer),
        "walkthrough": _walkthrough(customer),
        "timeline": _timeline(customer),
        "reads": latest_reads(customer, READS),
        "links": {
            "audit": _url("admin:raxx_auditevent_changelist", query=f"?customer={customer.pk}"),
            "reads": _url("admin:console_readaccess_changelist", query=f"?q={customer.pk}"),
            "export": _url("admin:raxx_customer_dsr_export", customer.pk),
            "erase": _url("admin:raxx_customer_dsr_erase", customer.pk),
            "merge": _url("admin:raxx_customer_merge", customer.pk),
            "merge_requests": merge_requests,
        },
    }


def customer_page_view(model_admin, request, object_id, extra_context=None):
    if not model_admin.has_view_permission(request):
        raise Http404
    customer = get_object_or_404(Customer.objects.select_related("wcb_setting", "wcb_tier_observation"),
                                 pk=object_id)
    context = customer_page_context(customer)
    if not context["erased"]:  # an erased customer's page shows nothing of theirs: no new row about them
        record_read(request, [customer.pk], page=PAGE)
    context.update({**model_admin.admin_site.each_context(request), **(extra_context or {}),
                    "title": f"Customer {customer.pk}", "opts": model_admin.model._meta,
                    "has_change_permission": model_admin.has_change_permission(request, customer)})
    return TemplateResponse(request, "console/customer_page.html", context)


# --- DSR erase from the customer page: inline, confirmed by typing the id ----------------

class EraseForm(forms.Form):
    confirm_id = forms.CharField(label="Type the customer id to confirm", max_length=64)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_id(self):
        value = self.cleaned_data["confirm_id"].strip().lower()
        if value != str(self.customer.pk):
            raise forms.ValidationError("That is not this customer's id; nothing was erased.")
        return value


def dsr_erase_view(model_admin, request, object_id):
    if not model_admin.has_change_permission(request):
        raise Http404
    customer = get_object_or_404(Customer, pk=object_id)
    form = EraseForm(request.POST or None, customer=customer)
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
               "customer": customer, "form": form, "title": f"Erase customer {customer.pk}?",
               "page_url": _url("admin:raxx_customer_change", customer.pk)}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = erase_customer(customer_id=customer.pk, actor=operator_name(request))
            except AccountsRefused as exc:
                context["refused"] = exc.message
                status = 409
            else:
                context["result"] = result
                context["deleted"] = sorted(result.deleted.items())
                context["unlinked"] = sorted(result.unlinked.items())
                messages.success(request, f"Erased: {result.rows_deleted} rows deleted.")
                return TemplateResponse(request, "console/dsr_erase.html", context)
        else:
            status = 400
    if "result" not in context:
        try:
            context["preview"] = sorted(erasure_preview(customer_id=customer.pk).items())
        except AccountsRefused as exc:  # pragma: no cover - the row was fetched above
            context["refused"] = exc.message
        context["already_erased"] = is_erased(customer)
    return TemplateResponse(request, "console/dsr_erase.html", context, status=status)


# --- the queued list action: queue when the broker answers, otherwise say so and run here --------

def broker_available() -> bool:
    from raxx.celery import app

    return bool(app.conf.task_always_eager) or health.broker_ok()


def _enqueue(customer_id: str, actor: str, failed: list) -> None:
    from raxx.tasks import dsr_erase_task

    try:
        dsr_erase_task.delay(customer_id, actor)
    except Exception:  # the broker went away between the check and the commit
        logger.exception("dsr_erase_task for %s could not be queued; erase it from the customer page", customer_id)
        failed.append(customer_id)


def queue_dsr_erasure(model_admin, request, queryset):
    customers = list(queryset.only("pk"))  # a merged-away account may still hold kept rows: allowed
    broker_up = broker_available()
    if request.POST.get("confirmed") != "yes":
        return TemplateResponse(request, "admin/raxx/customer/erase_confirm.html", {
            **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "customers": customers,
            "title": "Queue DSR erasure?" if broker_up else "Erase now? (the broker is unreachable)",
            "broker_up": broker_up, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME})
    actor = operator_name(request)
    if broker_up:
        failed: list[str] = []
        for customer in customers:
            transaction.on_commit(lambda cid=str(customer.pk): _enqueue(cid, actor, failed))
        if failed:  # outside a transaction the callbacks already ran
            model_admin.message_user(request, (
                f"The broker refused {len(failed)} of {len(customers)} erasure(s); nothing was erased for "
                f"{', '.join(failed)}. Erase them from their customer pages (that runs without the broker)."),
                messages.ERROR)
        else:
            model_admin.message_user(request, f"Queued DSR erasure for {len(customers)} customer(s).",
                                     messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:raxx_customer_changelist"))
    done, refused = [], []
    for customer in customers:
        try:
            done.append((customer.pk, erase_customer(customer_id=customer.pk, actor=actor)))
        except AccountsRefused as exc:
            refused.append((customer.pk, exc.message))
    return TemplateResponse(request, "admin/raxx/customer/erase_confirm.html", {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
        "title": "DSR erasure ran in this request (the broker is unreachable)",
        "done": [(pk, result.rows_deleted, sorted(result.deleted.items())) for pk, result in done],
        "refused": refused, "ran_inline": True})

"""Merge requests: both account holders consent before a merge (CONTRACTS §9).

Support opens a request (primary, secondary, reason); each holder lists it and
confirms with a step-up token from Queue (``raxx.step_up``), or declines it;
support then executes it (``merge_accounts --request`` or the console), which
re-checks the request under its row lock inside the merge transaction
(``raxx.merge.merge_accounts``). Open requests expire after 7 days (the beat task
``raxx.tasks.expire_merge_requests`` closes them).

Every change writes an audit event: ``merge_request_opened``,
``merge_request_confirmed``, ``merge_request_declined``,
``merge_request_cancelled`` (support), ``merge_request_expired``; the execution
is the ``account_merged`` event with ``"consent": "both"`` and the request id.
"""

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .audit import audit_log, current_actor
from .merge import AccountsRefused, MergePlan, _parse_id, _validate, lock_customers, merge_accounts, refuse_open_requests
from .models import MERGE_REQUEST_TTL_DAYS, Customer, MergeRequest

MAX_REASON_LENGTH = 2000


class MergeRequestRefused(AccountsRefused):
    """A holder's confirm/decline that must not happen (the API maps ``code`` to its status)."""


def _event_data(request: MergeRequest, **extra) -> dict:
    return {"request_id": str(request.pk), "primary_id": str(request.primary_id),
            "secondary_id": str(request.secondary_id), **extra}


def open_merge_request(*, primary_id, secondary_id, reason: str, actor: str | None = None) -> MergeRequest:
    """Open a request; refused (nothing written) when either account is missing, tombstoned, locked by a
    running merge/erasure, or named by another open request, or when the reason is empty."""
    primary_id, secondary_id = _parse_id(primary_id, "primary"), _parse_id(secondary_id, "secondary")
    reason = (reason or "").strip()
    if not reason:
        raise AccountsRefused("reason_required", "A merge request needs a reason (the support ticket, what the "
                                                 "holders asked for); nothing was changed.")
    if len(reason) > MAX_REASON_LENGTH:
        raise AccountsRefused("reason_too_long", f"The reason is longer than {MAX_REASON_LENGTH} characters; "
                                                 "nothing was changed.")
    with transaction.atomic():
        if primary_id == secondary_id:
            _validate({}, primary_id, secondary_id)
        # The customer row locks serialise two opens over one account (and wait for a running erasure).
        _validate(lock_customers([primary_id, secondary_id]), primary_id, secondary_id)
        refuse_open_requests(primary_id, secondary_id)
        now = timezone.now()
        request = MergeRequest.objects.create(
            primary_id=primary_id, secondary_id=secondary_id, reason=reason, opened_by=actor or current_actor(),
            created_at=now, expires_at=now + timedelta(days=MERGE_REQUEST_TTL_DAYS))
        audit_log("merge_request_opened", customer=request.primary, actor=actor,
                  data=_event_data(request, expires_at=request.expires_at.isoformat()))
    return request


def requests_naming(customer: Customer) -> QuerySet:
    """Every request that names ``customer`` (either side), newest first: one query."""
    return MergeRequest.objects.filter(Q(primary=customer) | Q(secondary=customer)).order_by("-created_at", "pk")


def _locked_request_of(customer: Customer, request_id) -> MergeRequest:
    try:
        request_id = uuid.UUID(str(request_id))
    except ValueError:
        raise MergeRequestRefused("not_found", "No such merge request.")
    request = requests_naming(customer).select_for_update().filter(pk=request_id).first()
    if request is None:  # another pair's request looks absent (404, not 403)
        raise MergeRequestRefused("not_found", "No such merge request.")
    return request


def confirm_merge_request(*, customer: Customer, request_id, stepped_up: bool) -> MergeRequest:
    """The holder ``customer`` confirms. Refusals: ``not_found`` (does not name the caller),
    ``merge_request_closed`` (expired or no longer pending), ``step_up_required``.
    Confirming twice before the other holder does is a no-op (no second event)."""
    with transaction.atomic():
        request = _locked_request_of(customer, request_id)
        status = request.effective_status
        if status != MergeRequest.Status.PENDING:
            raise MergeRequestRefused("merge_request_closed", f"This merge request is {status}.")
        if not stepped_up:
            raise MergeRequestRefused("step_up_required", "Confirming a merge needs a fresh sign-in with your "
                                                          "passkey.")
        role = request.role_of(customer.pk)
        if request.confirmed_at_of(role) is not None:
            return request
        now = timezone.now()
        setattr(request, f"{role}_confirmed_at", now)
        if request.both_confirmed:
            request.status = MergeRequest.Status.CONFIRMED
        request.save(update_fields=[f"{role}_confirmed_at", "status"])
        audit_log("merge_request_confirmed", customer=customer,
                  data=_event_data(request, role=role, status=request.status))
    return request


def decline_merge_request(*, customer: Customer, request_id) -> MergeRequest:
    """The holder ``customer`` declines: the request is cancelled. Allowed while it is open (pending, or
    confirmed by both but not executed: a holder can withdraw consent until the merge runs)."""
    with transaction.atomic():
        request = _locked_request_of(customer, request_id)
        status = request.effective_status
        if status not in MergeRequest.OPEN:
            raise MergeRequestRefused("merge_request_closed", f"This merge request is {status}.")
        _close(request, MergeRequest.Status.CANCELLED, by=f"customer:{customer.pk}")
        audit_log("merge_request_declined", customer=customer,
                  data=_event_data(request, role=request.role_of(customer.pk)))
    return request


def cancel_merge_request(*, request_id, actor: str | None = None) -> MergeRequest:
    """Support withdraws an open request (opened by mistake, or before a break-glass merge)."""
    request_id = _parse_id(request_id, "merge request")
    with transaction.atomic():
        request = MergeRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise AccountsRefused("not_found", f"No merge request {request_id}; nothing was changed.")
        status = request.effective_status
        if status not in MergeRequest.OPEN:
            raise AccountsRefused("merge_request_closed", f"Merge request {request_id} is {status}; "
                                                          "nothing was changed.")
        _close(request, MergeRequest.Status.CANCELLED, by=actor or current_actor())
        audit_log("merge_request_cancelled", customer=request.primary, actor=actor, data=_event_data(request))
    return request


def _close(request: MergeRequest, status: str, *, by: str) -> None:
    request.status, request.closed_at, request.closed_by = status, timezone.now(), by
    request.save(update_fields=["status", "closed_at", "closed_by"])


def expire_merge_requests(*, now=None) -> int:
    """Close every open request past its expiry (the beat task); one event each. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(MergeRequest.objects.select_for_update(skip_locked=True)
                   .filter(status__in=MergeRequest.OPEN, expires_at__lte=now).order_by("expires_at"))
        if not due:
            return 0
        MergeRequest.objects.filter(pk__in=[r.pk for r in due]).update(
            status=MergeRequest.Status.EXPIRED, closed_at=now, closed_by="system:expiry")
        for request in due:
            audit_log("merge_request_expired", customer=Customer(pk=request.primary_id), actor="system:expiry",
                      data=_event_data(request, expires_at=request.expires_at.isoformat()))
    return len(due)


def execute_merge_request(*, request_id, actor: str | None = None, progress=None,
                          without_consent_reason: str | None = None) -> MergePlan:
    """Run the merge a request describes; it must be confirmed by both (re-checked under its row lock in
    the merge transaction), unless ``without_consent_reason`` (break-glass) is given."""
    request_id = _parse_id(request_id, "merge request")
    request = MergeRequest.objects.filter(pk=request_id).only("primary_id", "secondary_id").first()
    if request is None:
        raise AccountsRefused("not_found", f"No merge request {request_id}; nothing was changed.")
    return merge_accounts(primary_id=request.primary_id, secondary_id=request.secondary_id, actor=actor,
                          progress=progress, request_id=request_id, without_consent_reason=without_consent_reason)

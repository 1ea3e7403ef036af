"""``Idempotency-Key`` on create routes (CONTRACTS §10), with Stripe's semantics.

The same customer, key and body within 24 hours replays the first response (same
status and body, ``Idempotent-Replayed: true``) and runs nothing; the same key with
another body (or on another route) is 422 ``idempotency_key_reused``; while the first
request still runs, 409 ``idempotency_key_in_use``. A key is 1–255 visible ASCII
characters (else 400).

How (a table, not the cache: the claim must hold when Redis is down, and survive a restart):
the ``idempotency_keys`` row is inserted and committed before the work, so concurrent
requests meet the unique (customer, key) constraint; the work and the recorded response
commit together, so a crash leaves no response for work that did not happen (a claim
left in flight by a dead worker can be taken over after ``IN_FLIGHT_TIMEOUT``).

As at Stripe, a response is recorded only once the work ran: a 400 (the body failed
validation), 401/403/429 and 5xx release the key, so a corrected retry runs. Recorded:
2xx and the business refusals 404, 409 and 422.
"""

import hashlib
import json
import logging
import re
from datetime import timedelta
from functools import wraps

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import INVALID_REQUEST, ApplicationError, drop_broken_connections
from .models import IdempotencyKey

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_REUSED = "idempotency_key_reused"
KEY_IN_USE = "idempotency_key_in_use"
TTL = timedelta(hours=24)
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)  # well past gunicorn's worker timeout: the claimant is dead
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_RECORDED_ERRORS = frozenset({404, 409, 422})

KEY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="1-255 visible ASCII characters. The same key and body within 24 hours replays the first "
                "response (header Idempotent-Replayed: true) and writes nothing; the same key with another "
                "body is 422 idempotency_key_reused; while the first request runs, 409 idempotency_key_in_use.")


def _recorded(status_code: int) -> bool:
    return 200 <= status_code < 300 or status_code in _RECORDED_ERRORS


def request_fingerprint(request) -> str:
    """The route and the body as parsed (key order and whitespace do not matter)."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()


def idempotency_claim(*, customer, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """(row, True) when this request now owns the key and must run; (row, False) to replay
    a recorded response. Raises 422 for another body, 409 while the key is in flight."""
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(customer=customer, key=key, fingerprint=fingerprint,
                                                     created_at=now), True
        except IntegrityError:
            pass  # the key exists: decide from the row below
        row = IdempotencyKey.objects.filter(customer=customer, key=key).first()
        if row is None:
            continue  # released since the insert failed: try again
        expired = row.created_at <= now - TTL
        abandoned = row.response_status is None and row.created_at <= now - IN_FLIGHT_TIMEOUT
        if expired or abandoned:
            # Conditional on the old created_at: of two requests taking it over, one wins.
            taken = IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).update(
                fingerprint=fingerprint, created_at=now, response_status=None, response_body=None, completed_at=None)
            if taken:
                row.fingerprint, row.created_at, row.response_status, row.response_body = fingerprint, now, None, None
                return row, True
            continue
        if row.fingerprint != fingerprint:
            raise ApplicationError(KEY_REUSED, "This Idempotency-Key was used with another request body.", 422)
        if row.response_status is None:
            raise ApplicationError(KEY_IN_USE, "A request with this Idempotency-Key is still in progress.", 409)
        return row, False
    raise ApplicationError(KEY_IN_USE, "A request with this Idempotency-Key is still in progress.", 409)


def _record(row: IdempotencyKey, response) -> None:
    body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
    IdempotencyKey.objects.filter(pk=row.pk).update(response_status=response.status_code, response_body=body,
                                                    completed_at=timezone.now())


def _release(row: IdempotencyKey) -> None:
    for _ in range(2):
        try:
            IdempotencyKey.objects.filter(pk=row.pk, response_status__isnull=True).delete()
            return
        except DatabaseError:  # a killed connection: drop it and try once on a fresh one
            drop_broken_connections()
    logger.warning("Could not release idempotency key #%s; it can be taken over after %s", row.pk, IN_FLIGHT_TIMEOUT)


def idempotency_keys_purge(*, now=None) -> int:
    """Delete the records older than 24 hours (a periodic job)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=(now or timezone.now()) - TTL).delete()
    return deleted


def _key_of(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is not None and not _KEY.fullmatch(key):
        raise ApplicationError(INVALID_REQUEST, {HEADER: ["1 to 255 visible ASCII characters (no spaces)."]})
    return key


def idempotent(method):
    """Decorate an APIView's ``post``: honours ``Idempotency-Key`` for the customer making the request."""

    @wraps(method)
    def handler(view, request, *args, **kwargs):
        key = _key_of(request)
        if key is None:
            return method(view, request, *args, **kwargs)
        row, owner = idempotency_claim(customer=request.user, key=key, fingerprint=request_fingerprint(request))
        if not owner:
            return Response(row.response_body, status=row.response_status, headers={REPLAYED_HEADER: "true"})
        recorded = False
        try:
            try:
                with transaction.atomic():  # the work and its recorded response commit together
                    response = method(view, request, *args, **kwargs)
                    if _recorded(response.status_code):
                        _record(row, response)
                        recorded = True
            except Exception as exc:  # rendered the way DRF would; unknown errors re-raise from here
                response = view.handle_exception(exc)
                if _recorded(response.status_code):  # a business refusal: the work rolled back, keep the answer
                    _record(row, response)
                    recorded = True
        finally:
            if not recorded:
                _release(row)
        return response

    return extend_schema(parameters=[KEY_PARAMETER])(handler)


def document_idempotent_responses(result, generator, request, public):
    """drf-spectacular hook: the 409/422 answers of every operation taking ``Idempotency-Key``
    (a hook, so the views' own response declarations stay theirs)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if not any(p.get("in") == "header" and p.get("name") == HEADER for p in operation.get("parameters", [])):
                continue
            responses = operation.setdefault("responses", {})
            for status_code, code, text in (("409", KEY_IN_USE, "A request with this Idempotency-Key is in flight."),
                                            ("422", KEY_REUSED, "The Idempotency-Key was used with another body.")):
                entry = responses.setdefault(status_code, {"description": text, "content": {
                    "application/json": {"schema": {"type": "object", "required": ["error"], "properties": {
                        "error": {"type": "string", "enum": []}, "detail": {"type": "string"}}}}}})
                enum = (entry.get("content", {}).get("application/json", {}).get("schema", {})
                        .get("properties", {}).get("error", {}).get("enum"))
                if isinstance(enum, list) and code not in enum:
                    enum.append(code)
    return result

"""The one way to write ``customer_audit_events``.

``audit_log`` refuses data that could carry a secret, a token or journal
note text: audit rows are kept long and shown to operators.
"""

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .models import AuditEvent, Customer

FORBIDDEN_KEYS = frozenset(
    {"token", "raw_token", "access_token", "jwt", "password", "secret", "api_key",
     "journal_note", "note", "note_text", "authorization"}
)

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("audit_actor", default="system")


def current_actor() -> str:
    return _actor.get()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute audit events written inside the block to ``actor``."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def _check_clean(data: Any, path: str = "data") -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if str(key).lower() in FORBIDDEN_KEYS:
                raise ValueError(f"audit_log refuses {path}.{key}: secrets, tokens and note text never go in the audit log")
            _check_clean(value, f"{path}.{key}")
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            _check_clean(value, f"{path}[{i}]")


def audit_log(event_type: str, *, customer: Customer | None = None, actor: str | None = None,
              data: Mapping[str, Any] | None = None) -> AuditEvent:
    data = dict(data or {})
    _check_clean(data)
    return AuditEvent.objects.create(
        event_type=event_type, customer=customer, actor=actor or current_actor(), data=data
    )

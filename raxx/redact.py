"""What never leaves the process in a log line or an error report: tokens, emails, note text.

Pure functions (no Django import): the log formatter and Sentry's ``before_send``
both use them, and settings can import this module.
"""

import re

FILTERED = "[Filtered]"

# A JWT (three base64url parts, the first one a JSON header "eyJ..."), a walkthrough
# beta token (wt1.…), a bearer credential, an email address.
_PATTERNS = [
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"\bwt1\.[A-Za-z0-9_.\-]{8,}"),
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9_.~+/=\-]{8,}"),
    re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
]

# Keys whose values are dropped wherever they appear (headers, bodies, extras).
SENSITIVE_KEYS = frozenset({
    "authorization", "http_authorization", "proxy-authorization", "cookie", "http_cookie", "set-cookie",
    "token", "access", "refresh", "jwt", "password", "secret", "api_key", "apikey", "x-api-key",
    "sessionid", "csrftoken", "csrfmiddlewaretoken", "journal_note", "note", "notes", "email", "pre_label_note",
    "idempotency-key", "http_idempotency_key", "token_hash", "raw_token", "dsn",
})


def scrub_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(FILTERED, text)
    return text


def is_sensitive_key(key) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return lowered in SENSITIVE_KEYS or any(
        part in lowered for part in ("token", "secret", "password", "authorization", "cookie", "note", "email"))


def scrub(value, depth: int = 0):
    """A copy of ``value`` (dicts, lists, strings) with sensitive keys and patterns filtered."""
    if depth > 20:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: FILTERED if is_sensitive_key(k) else scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Sentry sends headers as [[name, value], ...] pairs.
        if len(value) == 2 and isinstance(value[0], str) and is_sensitive_key(value[0]):
            return [value[0], FILTERED]
        return [scrub(v, depth + 1) for v in value]
    return value

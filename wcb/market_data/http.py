"""The one HTTP helper both remote providers use: a GET with a timeout whose
transient failures become :class:`MarketDataUnavailable`."""

from __future__ import annotations

import logging

import requests

from .base import MarketDataUnavailable

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


class NotFound(Exception):
    """404 or another non-transient 4xx: the provider has nothing for this request."""


def get_json(url: str, *, params: dict, headers: dict | None = None, provider: str) -> dict:
    try:
        response = requests.get(url, params=params, headers=headers or {}, timeout=TIMEOUT_SECONDS)
    except requests.Timeout as exc:
        raise MarketDataUnavailable(f"{provider}: timeout") from exc
    except requests.RequestException as exc:  # connection refused, DNS, TLS, ...
        raise MarketDataUnavailable(f"{provider}: network error ({exc.__class__.__name__})") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise MarketDataUnavailable(f"{provider}: HTTP {status}")
    if status in (401, 403):
        # Bad or missing credentials: not "no data". Keep rows pending and say so loudly.
        logger.error("%s: HTTP %s (credentials rejected)", provider, status)
        raise MarketDataUnavailable(f"{provider}: HTTP {status} (credentials rejected)")
    if status >= 400:
        raise NotFound(f"{provider}: HTTP {status}")
    try:
        body = response.json()
    except ValueError as exc:
        raise MarketDataUnavailable(f"{provider}: response was not JSON") from exc
    if not isinstance(body, dict):
        raise MarketDataUnavailable(f"{provider}: unexpected response shape")
    return body

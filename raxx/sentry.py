"""Optional error reporting to Sentry (``SENTRY_DSN``; off when unset).

``send_default_pii=False`` keeps users, IPs and cookies out; ``before_send``
is the second line: it drops request bodies, cookies, local variables and
every sensitive header or key (tokens, Authorization, note text, emails), and
filters token and email patterns out of messages and exception values.
"""

from .redact import FILTERED, scrub


def before_send(event: dict, hint: dict | None = None) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("env", None)  # REMOTE_ADDR: the client's address is personal data
        if "data" in request:  # a body may hold note text or tokens: never sent
            request["data"] = FILTERED
        if request.get("query_string"):
            request["query_string"] = FILTERED
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    event.pop("user", None)
    return scrub(event)


def init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
    )

"""Cost of the generation-checked flag cache (flags/cache.py) vs waffle's plain cache.

Same process, same run, interleaved rounds: one flag check (an ON flag, and an OFF flag
whose ``everyone`` is NULL, which waffle evaluates further), and the full authenticated
two-flag request of ``bench_platform``, each with ``WAFFLE_CACHE_NAME`` = ``default``
(waffle's GET per key, what the project had) and = ``flags`` (MGET of generation + key).
Run it with REDIS_URL set to measure the real round trips.
"""

from django.test import Client, RequestFactory, override_settings

from bench import harness

TITLE = "flags: generation-checked flag cache vs waffle's plain cache (per check, per request)"


def run() -> list[dict]:
    import waffle
    from waffle.models import Flag

    from raxx.models import Customer
    from raxx.tokens import issue_dev_token

    Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=True)
    customer = Customer.objects.create(id="11111111-1111-4111-8111-111111111111", email="bench@example.test")
    token = issue_dev_token(sub=customer.id, tier="pro_plus", ttl_seconds=3600)
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    request = RequestFactory().get("/")
    request.user = None

    def check(name):
        return lambda: waffle.flag_is_active(request, name)

    cases = [("flag check, ON (everyone)", check("FLAG_WCB_ENABLED")),
             ("flag check, OFF (everyone NULL)", check("FLAG_SENTIMENT_JOURNAL")),
             ("request: JWT + tier gate + 2 flag checks", lambda: client.get("/bench/auth-flag", **auth))]
    best: dict[tuple[str, str], dict] = {}
    with override_settings(ROOT_URLCONF="bench.platform_urls", DEBUG=False):
        for _ in range(5):
            for alias in ("default", "flags"):
                with override_settings(WAFFLE_CACHE_NAME=alias):
                    for name, fn in cases:
                        timing = harness.measure(fn, repeat=300, warmup=30)
                        key = (name, alias)
                        if key not in best or timing["median_us"] < best[key]["median_us"]:
                            best[key] = timing
    rows = []
    for name, _ in cases:
        old, new = best[(name, "default")]["median_us"], best[(name, "flags")]["median_us"]
        rows.append({"case": name, "waffle_plain_us": old, "generation_us": new, "added_us": new - old,
                     "ratio": new / old})
    return rows


if __name__ == "__main__":
    harness.main(TITLE, run)
